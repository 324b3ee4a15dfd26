import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueJob } from "../../core/jobs/enqueue.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitUntil } from "../helpers/wait.ts";

let app: TestApp;
let admin: TestClient;
let user: TestClient;
let release: () => void = () => {};
const held = new Promise<void>((resolve) => (release = resolve));

beforeAll(async () => {
  app = await startTestApp({
    worker: {
      extraTasks: {
        always_fails: async () => {
          throw new Error("The remote server answered 502 Bad Gateway");
        },
        // Runs until the test lets it finish, so it is seen running.
        hold: () => held,
      },
    },
  });
  admin = new TestClient(app.url);
  user = new TestClient(app.url);
  await admin.signup("root_admin");
  await user.signup("erin");
});
afterAll(async () => {
  release();
  await app?.close();
});

const overview = async () => (await admin.get("/api/v1/admin/jobs")).body;
const countsOf = (body: { tasks: { task: string; [count: string]: unknown }[] }, task: string) => body.tasks.find((t) => t.task === task);

describe("GET /api/v1/admin/jobs", () => {
  it("counts queued, scheduled, running and failed jobs per task, with the last errors and the worker heartbeat", async () => {
    // No worker runs this task, so it waits in the queue; the second one is due tomorrow.
    await enqueueJob(app.db.pool, "nobody_runs_this", { n: 1 });
    await enqueueJob(app.db.pool, "nobody_runs_this", { n: 2 }, { runAt: new Date(Date.now() + 86_400_000) });
    await enqueueJob(app.db.pool, "always_fails", {}, { maxAttempts: 1 });
    await enqueueJob(app.db.pool, "hold", {});

    const body = await waitUntil(async () => {
      const current = await overview();
      return countsOf(current, "always_fails")?.failed === 1 && countsOf(current, "hold")?.running === 1 ? current : undefined;
    }, { timeout: 30_000 });
    expect(countsOf(body, "nobody_runs_this")).toEqual({ task: "nobody_runs_this", queued: 1, scheduled: 1, running: 0, failed: 0 });
    expect(countsOf(body, "always_fails")).toEqual({ task: "always_fails", queued: 0, scheduled: 0, running: 0, failed: 1 });
    expect(countsOf(body, "hold")).toEqual({ task: "hold", queued: 0, scheduled: 0, running: 1, failed: 0 });
    expect(body.lastErrors).toEqual([
      {
        id: expect.stringMatching(/^\d+$/),
        task: "always_fails",
        lastError: expect.stringContaining("The remote server answered 502 Bad Gateway"),
        attempts: 1,
        maxAttempts: 1,
        failed: true,
        updatedAt: expect.any(String),
      },
    ]);
    expect(Date.parse(body.lastErrors[0].updatedAt)).not.toBeNaN();
    expect(body.worker).toEqual({ ok: true, running: 1, lastSeenAt: expect.any(String) });

    release();
    await waitUntil(async () => (countsOf(await overview(), "hold") === undefined ? true : undefined), { timeout: 30_000 });
  });

  it("truncates long errors", async () => {
    await app.db.pool.query(
      `SELECT graphile_worker.permanently_fail_jobs(ARRAY[(graphile_worker.add_job('nobody_runs_this', '{}'::json)).id], $1)`,
      ["x".repeat(5000)],
    );
    const body = await overview();
    expect(body.lastErrors[0]).toMatchObject({ task: "nobody_runs_this", failed: true });
    expect(body.lastErrors[0].lastError).toHaveLength(1000);
    expect(countsOf(body, "nobody_runs_this")).toMatchObject({ queued: 1, failed: 1 });
  });

  it("is for administrators only", async () => {
    expect((await new TestClient(app.url).get("/api/v1/admin/jobs")).status).toBe(401);
    const denied = await user.get("/api/v1/admin/jobs");
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe("forbidden");
  });
});
