/**
 * Which server folders may be a library's music folder. Everything under one is read and may be streamed
 * to the library's listeners, so it may not be, hold or lie inside the server's own data: DATA_DIR holds
 * the secret key and the database, MEDIA_DIR every user's uploads. Real paths are compared, so a link to
 * the data directory (or a folder swapped for one after it was set) is seen for what it is.
 */
import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { Invalid } from "../errors.ts";
import { isInside } from "../media/safe-open.ts";

/** Throws Invalid (a message for the admin who typed the path) unless `folder` may be a music folder. */
export async function checkMusicFolder(folder: string, serverDirs: readonly string[]): Promise<void> {
  if (!path.isAbsolute(folder)) throw new Invalid("The music folder must be an absolute path", { musicFolder: folder });
  const real = await realpath(folder).catch(() => null);
  if (!real || !(await stat(real)).isDirectory()) {
    throw new Invalid("The music folder does not exist or is not a directory", { musicFolder: folder });
  }
  await refuseServerData(folder, serverDirs);
}

/**
 * Throws Invalid when `folder` is, holds or lies inside the server's own data, through links too. A
 * folder that does not exist holds nothing: the caller says what that means (a scan: cannot be read).
 */
export async function refuseServerData(folder: string, serverDirs: readonly string[]): Promise<void> {
  const real = await realpath(folder).catch(() => null);
  if (!real) return;
  for (const dir of serverDirs) {
    // A MEDIA_DIR not made yet is compared as written.
    const serverDir = await realpath(dir).catch(() => path.resolve(dir));
    if (isInside(serverDir, real) || isInside(real, serverDir)) {
      throw new Invalid(
        "The music folder may not be, contain or lie inside the server's own data (DATA_DIR, MEDIA_DIR)",
        { musicFolder: folder },
        "server_folder",
      );
    }
  }
}

/** The folders of the server's own data that no music folder may touch. */
export function serverDirs(config: { dataDir: string; mediaDir: string }): string[] {
  return [config.dataDir, config.mediaDir];
}
