// A music folder that cannot be read (a disk not mounted, a folder renamed, a directory without permission)
// must not look like a folder whose files were all deleted: a scan then removes nothing, and says why.
import { chmod, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { countRows, waitForImports } from "../helpers/imports.ts";
import { ROOT } from "../helpers/processes.ts";
import { waitUntil } from "../helpers/wait.ts";

describe.skipIf(!hasFfmpeg())("a music folder that cannot be read", () => {
  let app: TestApp;
  let admin: TestClient;
  let parent: string;
  let music: string;
  let libraryId: string;

  /** The library's last scan has run (or used up its attempts): the import status says so, and its error. */
  async function scanOnce(): Promise<{ scanning: boolean; scanError: string | null }> {
    expect((await admin.post(`/api/v1/libraries/${libraryId}/scan`)).status).toBe(202);
    return waitUntil(async () => {
      const status = (await admin.get(`/api/v1/libraries/${libraryId}/import-status`)).body;
      return status.scanning ? undefined : status;
    }, { timeout: 60_000 });
  }
  const catalog = async () => ({ uploads: await countRows(app.db.pool, "upload"), favourites: await countRows(app.db.pool, "favorite") });

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    admin = new TestClient(app.url);
    await admin.signup("curator");
    parent = await mkdtemp(path.join(os.tmpdir(), "unmounted-"));
    music = path.join(parent, "disk");
    for (const dir of ["A", "B"]) {
      await mkdir(path.join(music, dir), { recursive: true });
      await makeAudio(path.join(music, dir), { name: `${dir} song`, format: "mp3", tags: { TITLE: `${dir} song`, ARTIST: "Disk" } });
    }
    libraryId = (await admin.post("/api/v1/libraries", { name: "USB disk", musicFolder: music })).body.id;
    await waitUntil(async () => ((await countRows(app.db.pool, "upload")) === 2 ? true : undefined));
    await waitForImports(app.db.pool, libraryId);
    for (const track of (await admin.get("/api/v1/tracks")).body.items) {
      expect((await admin.request("PUT", `/api/v1/favorites/tracks/${track.id}`)).status).toBeLessThan(300);
    }
  }, 90_000);
  afterAll(async () => {
    await app?.close();
    if (parent) await rm(parent, { recursive: true, force: true });
  });

  it("keeps everything when the folder is gone, and the import status says why", async () => {
    await rename(music, `${music}.away`);
    try {
      const status = await scanOnce();
      expect(await catalog()).toEqual({ uploads: 2, favourites: 2 });
      expect(status.scanError).toBe(`The music folder ${music} cannot be read (it does not exist); nothing was changed`);
    } finally {
      await rename(`${music}.away`, music);
    }
    expect((await scanOnce()).scanError).toBeNull();
  }, 90_000);

  it("keeps everything when the folder is empty, as a mount point is while its disk is not mounted", async () => {
    await rename(music, `${music}.away`);
    try {
      await mkdir(music);
      const status = await scanOnce();
      expect(await catalog()).toEqual({ uploads: 2, favourites: 2 });
      expect(status.scanError).toMatch(new RegExp(`^The music folder ${music} is empty: its 2 files were kept\\.`));
    } finally {
      await rm(music, { recursive: true, force: true });
      await rename(`${music}.away`, music);
    }
  }, 90_000);

  it("keeps the files of a directory it could not read", async () => {
    await chmod(path.join(music, "B"), 0);
    try {
      // Root reads any directory: the CLI is run without the capabilities that allow it (and so over TCP: the
      // database's socket directory belongs to its own user).
      const asRoot = process.getuid?.() === 0;
      const overTcp = new URL(app.config.database.url!);
      overTcp.search = "";
      const command = asRoot ? "setpriv" : process.execPath;
      const args = [...(asRoot ? ["--bounding-set", "-dac_override,-dac_read_search", process.execPath] : []), "cli.ts", "import", music, "--library", libraryId];
      const output = execFileSync(command, args, {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", DATABASE_URL: overTcp.href, MEDIA_DIR: app.config.mediaDir, LOG_LEVEL: "warning" },
        encoding: "utf8",
      });
      expect(output).toMatch(/: 0 new, 0 changed, 0 removed, 1 unchanged\./);
      expect(await catalog()).toEqual({ uploads: 2, favourites: 2 });
    } finally {
      await chmod(path.join(music, "B"), 0o755);
    }
  }, 90_000);
});
