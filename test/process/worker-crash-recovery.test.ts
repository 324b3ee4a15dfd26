import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { id3v2Tag, tagWav } from "../fixtures/id3v2-tags.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { countRows, waitForImports } from "../helpers/imports.ts";
import { spawnEntry } from "../helpers/processes.ts";
import { waitUntil } from "../helpers/wait.ts";

const ffmpeg = hasFfmpeg();
const FILES = 320;

describe.skipIf(!ffmpeg)("a worker killed in the middle of an import", () => {
  let app: TestApp;
  let music: string;
  beforeAll(async () => {
    app = await startTestApp(); // web only: the workers below are separate processes
    music = await mkdtemp(path.join(os.tmpdir(), "crash-"));
    // One encode, many taggings: enough files (a few MB each) that the import takes a while.
    const tone = await readFile(await makeAudio(os.tmpdir(), { name: `crash-tone-${process.pid}`, format: "wav", seconds: 20 }));
    for (let i = 1; i <= FILES; i++) {
      const tags = { TITLE: `Track ${i}`, ARTIST: "Crash Test", ALBUM: "Recovery", TRACKNUMBER: String(i) };
      await writeFile(path.join(music, `t${i}.wav`), tagWav(tone, id3v2Tag(tags, [])));
    }
  });
  afterAll(async () => {
    await app?.close();
    await rm(music, { recursive: true, force: true });
  });

  it("leaves its jobs to the next worker, which finishes with no duplicates and nothing lost", async () => {
    const admin = new TestClient(app.url);
    await admin.signup("curator");
    const library = (await admin.post("/api/v1/libraries", { name: "Crash", musicFolder: music })).body.id;
    const env = { DATABASE_URL: app.config.database.url!, MEDIA_DIR: app.config.mediaDir, WORKER_CONCURRENCY: "2", LOG_LEVEL: "warning" };

    const first = spawnEntry(["main.ts", "worker"], env);
    await waitUntil(async () => {
      const { rows } = await app.db.pool.query("SELECT count(*)::int AS n FROM upload WHERE status = 'finished'");
      return rows[0].n >= 1 || undefined;
    });
    first.child.kill("SIGKILL");
    await first.exited;
    const locked = await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE locked_at IS NOT NULL");
    expect(locked.rows[0].n).toBeGreaterThan(0);
    const finishedAtCrash = await app.db.pool.query("SELECT count(*)::int AS n FROM upload WHERE status = 'finished'");
    expect(finishedAtCrash.rows[0].n).toBeLessThan(FILES);

    const second = spawnEntry(["main.ts", "worker"], env);
    try {
      await waitForImports(app.db.pool, library, 90_000);
      const statuses = await app.db.pool.query("SELECT status, count(*)::int AS n FROM upload GROUP BY status");
      expect(statuses.rows).toEqual([{ status: "finished", n: FILES }]);
      expect(await countRows(app.db.pool, "track")).toBe(FILES);
      expect(await countRows(app.db.pool, "album")).toBe(1);
      expect(await countRows(app.db.pool, "artist")).toBe(1);
      expect(second.output()).toContain("Released jobs held by workers that died");
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  }, 150_000);
});
