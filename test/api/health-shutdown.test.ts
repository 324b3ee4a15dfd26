import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueJob } from "../../core/jobs/enqueue.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { sleep, waitUntil } from "../helpers/wait.ts";

describe("health", () => {
  let app: TestApp;
  beforeAll(async () => {
    // ffmpeg is looked for where there is none: health must say so (transcoding tests cover the found case).
    app = await startTestApp({ env: { FFMPEG_PATH: "/nonexistent/ffmpeg" } });
  });
  afterAll(() => app.close());

  it("reports the database up, the worker missing when none runs, and ffmpeg missing", async () => {
    const res = await fetch(`${app.url}/api/v1/health`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      status: "degraded",
      database: { ok: true },
      worker: { ok: false, running: 0, lastSeenAt: null },
      queue: { ready: 0, delayed: 0, running: 0, failed: 0 },
      ffmpeg: { available: false, version: null },
    });
    expect(body.database.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("reports ok once a worker is alive, and counts waiting jobs", async () => {
    const withWorker = await startTestApp({ worker: true });
    try {
      await enqueueJob(withWorker.db.pool, "cleanup", {}, { runAt: new Date(Date.now() + 3_600_000) });
      const body = await (await fetch(`${withWorker.url}/api/v1/health`)).json();
      expect(body).toMatchObject({ status: "ok", worker: { ok: true, running: 1 }, queue: { delayed: 1 } });
      expect(Date.parse(body.worker.lastSeenAt)).toBeGreaterThan(Date.now() - 60_000);
    } finally {
      await withWorker.close();
    }
  });
});

describe("graceful shutdown", () => {
  it("lets an in-flight request finish before the web server closes", async () => {
    const app = await startTestApp();
    try {
      const { port } = new URL(app.url);
      const body = JSON.stringify({ username: "slowpoke", password: "whatever it is" });
      const response = new Promise<number>((resolve, reject) => {
        const req = http.request(
          { host: "127.0.0.1", port, method: "POST", path: "/api/v1/auth/login",
            headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode!));
          },
        );
        req.on("error", reject);
        req.write(body.slice(0, 10));
        setTimeout(() => req.end(body.slice(10)), 300);
      });
      await sleep(100);
      let closed = false;
      const closing = app.web.close().then(() => (closed = true));
      await sleep(50);
      expect(closed).toBe(false);
      expect(await response).toBe(401);
      await closing;
      await expect(fetch(`${app.url}/api/v1/health`)).rejects.toThrow();
    } finally {
      await app.close();
    }
  });

  it("lets a running job finish before the worker stops", async () => {
    let finished = false;
    const app = await startTestApp({
      worker: {
        extraTasks: {
          slow: async () => {
            await sleep(1500);
            finished = true;
          },
        },
      },
    });
    try {
      await enqueueJob(app.db.pool, "slow", {});
      await waitUntil(async () => {
        const { rows } = await app.db.pool.query("SELECT 1 FROM graphile_worker.jobs WHERE locked_at IS NOT NULL");
        return rows.length > 0 || undefined;
      });
      await app.worker!.stop();
      expect(finished).toBe(true);
      const { rows } = await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs");
      expect(rows[0].n).toBe(0);
    } finally {
      await app.close();
    }
  });
});
