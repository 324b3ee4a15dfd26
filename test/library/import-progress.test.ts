import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanFolder } from "../../core/library/folder-scanner.ts";
import { Importer } from "../../core/library/importer.ts";
import { serverDirs } from "../../core/library/music-folder.ts";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitUntil } from "../helpers/wait.ts";

// Progress a person can follow (issue 19): done/total, files a second and time left while an import
// runs, then how long it took and which files failed, why. A real scan and real imports, run here in
// two halves (no worker: the library's own scan job stays queued), so the test sees the import half done.
describe.skipIf(!hasFfmpeg())("import progress", () => {
  let app: TestApp;
  let music: string;
  let owner: TestClient;
  let libraryId: string;
  beforeAll(async () => {
    app = await startTestApp(); // no worker: the test runs the importer
    music = await mkdtemp(path.join(os.tmpdir(), "import-progress-"));
    for (let n = 1; n <= 6; n++) {
      await makeAudio(music, { name: `0${n} Song`, format: "mp3", seconds: 1, tags: { ALBUM: "Halves", ARTIST: "Meter", TITLE: `Song ${n}`, TRACKNUMBER: String(n) } });
    }
    await writeFile(path.join(music, "07 Empty.mp3"), "");
    await writeFile(path.join(music, "08 Notes.mp3"), "liner notes, not music\n".repeat(40));
    owner = new TestClient(app.url);
    await owner.signup("meter");
    libraryId = (await owner.post("/api/v1/libraries", { name: "NAS", musicFolder: music })).body.id;
  });
  afterAll(async () => {
    await app?.close();
    await rm(music, { recursive: true, force: true });
  });

  const status = async () => (await owner.get(`/api/v1/libraries/${libraryId}/import-status`)).body;
  const uploadIds = async () =>
    (await app.db.pool.query<{ id: string }>("SELECT id FROM upload WHERE library_id = $1 ORDER BY path", [libraryId])).rows.map((r) => r.id);

  it("has no rate before anything settled, a rate and time left half way, and none left at the end", async () => {
    const scan = await scanFolder(
      { pool: app.db.pool, orm: app.db.orm, uploads: app.deps.uploads, coversDir: path.join(app.config.mediaDir, "covers"), serverDirs: serverDirs(app.config) },
      libraryId,
      music,
    );
    expect(scan).toMatchObject({ added: 8, changed: 0, removed: 0, unchanged: 0 });
    const before = await status();
    expect(before.counts).toMatchObject({ pending: 8, total: 8 });
    expect(before.rate).toEqual({ filesPerSecond: null, secondsLeft: null });

    const ids = await uploadIds();
    const importer = new Importer({ pool: app.db.pool, orm: app.db.orm, mediaDir: app.config.mediaDir });
    await importer.importUploads(ids.slice(0, 4));
    const half = await waitUntil(async () => {
      const s = await status();
      return s.rate.filesPerSecond !== null ? s : undefined; // needs half a second of history
    }, { timeout: 5_000, interval: 100 });
    expect(half.counts).toMatchObject({ pending: 4, finished: 4, total: 8 });
    expect(half.rate.filesPerSecond).toBeGreaterThan(0);
    expect(half.rate.secondsLeft).toBe(Math.ceil(4 / half.rate.filesPerSecond));
    expect(await app.deps.uploads.batchRate(scan.batchId)).toEqual(expect.objectContaining({ secondsLeft: expect.any(Number) }));

    await importer.importUploads(ids.slice(4));
    const after = await status();
    expect(after.counts).toEqual({ pending: 0, finished: 6, errored: 2, skipped: 0, total: 8 });
    expect(after.rate.secondsLeft).toBeNull();
    expect(after.rate.filesPerSecond).toBeGreaterThan(0);
    expect(await app.deps.uploads.batchSeconds(scan.batchId)).toBeGreaterThan(0);
    const failures = await app.deps.uploads.batchFailures(scan.batchId);
    expect(failures.map((f) => [path.basename(f.path), f.code])).toEqual([["07 Empty.mp3", "empty_file"], ["08 Notes.mp3", "not_audio"]]);
  });
});
