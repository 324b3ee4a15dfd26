import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Importer } from "../../core/library/importer.ts";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { countRows } from "../helpers/imports.ts";

// A job may still run twice (a worker cut off from the database long enough to count as dead): the
// second run of an import must find the upload done, not skip it as a duplicate of itself.
describe.skipIf(!hasFfmpeg())("an import that runs twice at once", () => {
  let app: TestApp;
  let dir: string;
  beforeAll(async () => {
    app = await startTestApp(); // no worker: the test runs the importer itself
    dir = await mkdtemp(path.join(os.tmpdir(), "import-twice-"));
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("finishes the upload once, keeping its track and its stored file", async () => {
    const alice = new TestClient(app.url);
    await alice.signup("alice");
    const library = (await alice.post("/api/v1/libraries", { name: "Main" })).body.id;
    const file = await makeAudio(dir, { name: "twice", format: "mp3", tags: { TITLE: "Twice", ARTIST: "Echo", ALBUM: "Again" } });
    const res = await alice.upload(`/api/v1/libraries/${library}/uploads`, [{ name: "twice.mp3", data: await readFile(file) }]);
    const uploadId = res.body.uploads[0].id;

    const runs = [0, 1].map(() => new Importer({ pool: app.db.pool, orm: app.db.orm, mediaDir: app.config.mediaDir }));
    await Promise.all(runs.map((importer) => importer.importUpload(uploadId)));

    const { rows } = await app.db.pool.query("SELECT status, error_code, track_id, path FROM upload WHERE id = $1", [uploadId]);
    expect(rows[0]).toMatchObject({ status: "finished", error_code: null, track_id: expect.any(String) });
    expect(await countRows(app.db.pool, "track")).toBe(1);
    expect(existsSync(path.join(app.config.mediaDir, rows[0].path))).toBe(true);
  });
});
