import type { Task } from "graphile-worker";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { enqueueJob } from "../../core/jobs/enqueue.ts";
import { startWorker, type Worker, type WorkerOptions } from "../../workers/main.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { sleep, waitUntil } from "../helpers/wait.ts";

// A worker silent for a second counts as dead here (20 s in production); each beats five times a second.
const heartbeat = { intervalMs: 200, deadAfterSeconds: 1 };
/** How long the job is held: three times the threshold, so the release runs many times meanwhile. */
const HELD_SECONDS = 3 * heartbeat.deadAfterSeconds;

describe("a job held by a live worker past the dead-worker threshold", () => {
  let app: TestApp;
  let runs: string[];
  let finish = () => {};
  let finished: Promise<void>;
  const workers: Worker[] = [];
  const options: WorkerOptions = {
    heartbeat,
    extraTasks: {
      hold: (async (_payload, helpers) => {
        runs.push(`${helpers.job.id} attempt ${helpers.job.attempts}`);
        await finished;
      }) satisfies Task,
    },
  };
  const startOne = async () => {
    const worker = await startWorker(app.config, app.db, options);
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    app = await startTestApp(); // the workers are started by each test, beside one another
  });
  afterEach(async () => {
    finish();
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });
  afterAll(() => app.close());

  /** Enqueues the job, waits until `first` runs it, then starts a second worker that runs the release. */
  async function holdJobBesideASecondWorker(): Promise<{ first: Worker }> {
    runs = [];
    finished = new Promise((resolve) => (finish = resolve));
    const first = await startOne();
    await enqueueJob(app.db.pool, "hold", {});
    await waitUntil(() => runs.length === 1);
    await startOne();
    return { first };
  }

  /** Lets the job be held HELD_SECONDS past its start, while every worker's release runs, and checks its lock. */
  async function holdPastThreshold(): Promise<void> {
    await sleep(HELD_SECONDS * 1000);
    const { rows } = await app.db.pool.query(
      `SELECT attempts, extract(epoch FROM now() - locked_at)::float AS held
       FROM graphile_worker.jobs WHERE task_identifier = 'hold'`,
    );
    expect(rows).toEqual([{ attempts: 1, held: expect.any(Number) }]);
    expect(rows[0].held).toBeGreaterThan(HELD_SECONDS);
  }

  async function jobGone(): Promise<boolean> {
    const { rowCount } = await app.db.pool.query("SELECT 1 FROM graphile_worker.jobs WHERE task_identifier = 'hold'");
    return rowCount === 0;
  }

  it("runs once while its worker keeps beating", async () => {
    await holdJobBesideASecondWorker();
    await holdPastThreshold();
    const vouched = await app.db.pool.query(
      `SELECT 1 FROM graphile_worker.jobs j JOIN worker_heartbeat h ON j.locked_by = ANY(h.graphile_worker_ids)
       WHERE j.task_identifier = 'hold'`,
    );
    expect(vouched.rowCount).toBe(1); // the heartbeat names the id graphile-worker locked the job with
    finish();
    await waitUntil(jobGone);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(/attempt 1$/);
  });

  it("runs once while its worker drains it on a graceful stop", async () => {
    const { first } = await holdJobBesideASecondWorker();
    const stopped = first.stop(); // waits for the running job, which is still this worker's
    await holdPastThreshold();
    finish();
    await stopped;
    await waitUntil(jobGone);
    expect(runs).toHaveLength(1);
  });
});
