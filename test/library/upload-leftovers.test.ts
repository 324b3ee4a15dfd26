import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { cleanupTask } from "../../workers/tasks/cleanup.task.ts";

const HOUR = 3_600_000;

/**
 * An upload cut by a crash (kill -9, a power cut) runs no cleanup: its `.part` file and its batch stay.
 * The hourly cleanup removes them once nothing can still be writing them, and nothing else.
 */
describe("what a crash leaves of an upload in flight", () => {
  let app: TestApp;
  let client: TestClient;
  let library: string;
  let folder: string;

  beforeAll(async () => {
    app = await startTestApp();
    client = new TestClient(app.url);
    await client.signup("crasher");
    library = (await client.post("/api/v1/libraries", { name: "Crashed" })).body.id;
    folder = path.join(app.config.mediaDir, "uploads", library);
    await mkdir(folder, { recursive: true });
  });
  afterAll(async () => {
    await app?.close();
  });

  /** An empty upload batch created `ageMs` ago, as the request that started it left it. */
  async function batch(ageMs: number, kind = "upload"): Promise<string> {
    const { rows } = await app.db.pool.query(
      "INSERT INTO import_batch (id, library_id, kind, created_at) VALUES (gen_random_uuid(), $1, $2, now() - $3 * interval '1 millisecond') RETURNING id",
      [library, kind, ageMs],
    );
    return rows[0].id;
  }

  async function file(name: string, ageMs: number): Promise<void> {
    await writeFile(path.join(folder, name), "partial bytes");
    const when = new Date(Date.now() - ageMs);
    await utimes(path.join(folder, name), when, when);
  }

  it("removes .part files untouched for an hour and empty upload batches a day old; keeps the rest", async () => {
    await file("crashed.mp3.part", 2 * HOUR);
    await file("arriving.mp3.part", 60_000);
    await file("kept.mp3", 2 * HOUR);
    const old = await batch(2 * 24 * HOUR);
    const young = await batch(10 * 60_000);
    const scan = await batch(2 * 24 * HOUR, "folder");
    const upload = await client.upload(`/api/v1/libraries/${library}/uploads`, [{ name: "real.mp3", data: new Uint8Array(64) }]);
    await app.db.pool.query("UPDATE import_batch SET created_at = now() - interval '2 days' WHERE id = $1", [upload.body.batchId]);

    await cleanupTask({ pool: app.db.pool, mediaDir: app.config.mediaDir, remoteCacheMaxBytes: app.config.media.remoteCacheMaxBytes })({}, undefined as never);

    expect((await readdir(folder)).sort()).toEqual(["arriving.mp3.part", "kept.mp3", `${upload.body.uploads[0].id}.mp3`].sort());
    const { rows } = await app.db.pool.query("SELECT id FROM import_batch");
    expect(rows.map((r) => r.id).sort()).toEqual([young, scan, upload.body.batchId].sort());
    expect(rows.map((r) => r.id)).not.toContain(old);
  });

  it("takes a MEDIA_DIR with no uploads folder yet in its stride", async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), "leftovers-"));
    try {
      await expect(cleanupTask({ pool: app.db.pool, mediaDir: empty, remoteCacheMaxBytes: app.config.media.remoteCacheMaxBytes })({}, undefined as never)).resolves.toBeUndefined();
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
