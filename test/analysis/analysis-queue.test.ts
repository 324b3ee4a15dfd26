import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Importer } from "../../core/library/importer.ts";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";

// Analysis never delays imports or deliveries (issue 20): its jobs are queued with the import's commit, behind
// every other job (priority), and spread over ANALYSIS_CONCURRENCY named queues (one job of each at a time).
describe.skipIf(!hasFfmpeg())("analysis jobs in the queue", () => {
  let app: TestApp;
  let dir: string;
  beforeAll(async () => {
    app = await startTestApp({ env: { ANALYSIS_CONCURRENCY: "3" } }); // no worker: the jobs stay to be looked at
    dir = await mkdtemp(path.join(os.tmpdir(), "analysis-queue-"));
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("queues one low-priority job per imported track in the import's transaction, over the configured queues", async () => {
    const owner = new TestClient(app.url);
    await owner.signup("queuer");
    const libraryId = (await owner.post("/api/v1/libraries", { name: "Queue" })).body.id;
    const files = [];
    for (let n = 1; n <= 8; n++) {
      const file = await makeAudio(dir, { name: `t${n}`, format: "mp3", seconds: 1, tags: { TITLE: `Track ${n}`, ARTIST: "Q", ALBUM: "Lines" } });
      files.push({ name: `t${n}.mp3`, data: await readFile(file) });
    }
    await owner.upload(`/api/v1/libraries/${libraryId}/uploads`, files);
    const jobs = async () => (await app.db.pool.query(
      "SELECT priority, queue_name, key FROM graphile_worker.jobs WHERE task_identifier = 'analyze_track'",
    )).rows;
    expect(await jobs()).toEqual([]); // nothing before the import

    const { rows: uploads } = await app.db.pool.query<{ id: string }>("SELECT id FROM upload WHERE library_id = $1", [libraryId]);
    await new Importer({ pool: app.db.pool, orm: app.db.orm, mediaDir: app.config.mediaDir, analysisQueues: app.config.analysis.concurrency })
      .importUploads(uploads.map((u) => u.id));
    const { rows: tracks } = await app.db.pool.query<{ id: string }>("SELECT id FROM track");
    expect(tracks).toHaveLength(8);
    const queued = await jobs();
    // One job a track, keyed by it (the view of the queue shows no payloads).
    expect(queued.map((j) => j.key).sort()).toEqual(tracks.map((t) => `analyze_track:${t.id}`).sort());
    for (const job of queued) {
      expect(job.priority).toBe(100); // graphile-worker runs lower numbers first: imports (0) go before
      expect(job.queue_name).toMatch(/^analysis-[0-2]$/);
    }
    expect(new Set(queued.map((j) => j.queue_name)).size).toBeGreaterThan(1);
    const { rows: imports } = await app.db.pool.query("SELECT priority FROM graphile_worker.jobs WHERE task_identifier = 'import_upload'");
    expect(imports.length).toBeGreaterThan(0); // the upload's own import job, still queued without a worker
    for (const job of imports) expect(job.priority).toBeLessThan(100);
  });
});
