/**
 * Cover images that sit in a music folder (cover.jpg, folder.png, front.webp...), stored for the albums
 * whose files they sit beside. The importer reads them for the files it imports; a rescan reads them
 * for albums still without a cover, so a cover added after the music is found without re-importing it.
 */
import path from "node:path";
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { DomainError } from "../errors.ts";
import { FolderCoverFinder, InvalidImage, MAX_COVER_BYTES, processCover } from "../media/artwork.ts";
import { openInside, readAll, RefusedFile, type OpenFile } from "../media/safe-open.ts";

const log = getLogger(["polyphony", "library", "covers"]);

/**
 * Stores the cover image beside `file` and returns its hash; null when its folder has none inside `root`
 * (a cover that is a link out of the folder, or a FIFO, is passed over: safe-open.ts).
 */
export async function storeFolderCover(finder: FolderCoverFinder, file: string, root: string, coversDir: string): Promise<string | null> {
  const beside = await finder.find(file, root);
  if (!beside) return null;
  let opened: OpenFile;
  try {
    // The size is checked before reading: a "cover.jpg" can be anything.
    opened = await openInside(root, beside, { maxBytes: MAX_COVER_BYTES });
  } catch (error) {
    if (!(error instanceof RefusedFile)) throw error;
    if (error.code !== "too_large") {
      log.info("Ignoring the cover {file}: {reason}", { file: beside, reason: error.message });
      return null;
    }
    const megabytes = Math.round((error.size ?? 0) / 2 ** 20);
    throw new InvalidImage(`${path.basename(beside)} beside the file is too big to be a cover (${megabytes} MB)`);
  }
  try {
    return (await processCover(await readAll(opened), coversDir)).hash;
  } finally {
    await opened.handle.close();
  }
}

/**
 * Gives the albums of a library's in-place files under `root` that have no cover the cover image of a
 * folder their files sit in. A cover we cannot use is logged and skipped: it never fails a scan.
 * Returns how many albums got one.
 */
export async function attachFolderCovers(pool: pg.Pool, coversDir: string, libraryId: string, root: string): Promise<number> {
  const { rows } = await pool.query<{ album_id: string; path: string }>(
    `SELECT DISTINCT t.album_id, u.path FROM upload u JOIN track t ON t.id = u.track_id JOIN album a ON a.id = t.album_id
     WHERE u.library_id = $1 AND u.storage = 'in_place' AND u.status = 'finished' AND starts_with(u.path, $2)
       AND a.cover_hash IS NULL`,
    [libraryId, root + path.sep],
  );
  const albumsByFolder = new Map<string, { file: string; albums: Set<string> }>();
  for (const row of rows) {
    const dir = path.dirname(row.path);
    const folder = albumsByFolder.get(dir) ?? { file: row.path, albums: new Set() };
    folder.albums.add(row.album_id);
    albumsByFolder.set(dir, folder);
  }
  const finder = new FolderCoverFinder();
  let attached = 0;
  for (const [dir, { file, albums }] of albumsByFolder) {
    const hash = await storeFolderCover(finder, file, root, coversDir).catch((error: unknown) => {
      if (!(error instanceof DomainError) && !isFsError(error)) throw error;
      log.warning("The cover in {dir} was not used: {reason}", { dir, reason: (error as Error).message });
      return null;
    });
    if (!hash) continue;
    const { rowCount } = await pool.query("UPDATE album SET cover_hash = $2 WHERE id = ANY($1::uuid[]) AND cover_hash IS NULL", [
      [...albums],
      hash,
    ]);
    attached += rowCount ?? 0;
  }
  return attached;
}

function isFsError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === "string";
}
