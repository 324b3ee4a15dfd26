import type { Queryable } from "../jobs/enqueue.ts";
import { readWorkerHeartbeats, type HealthReport } from "./health.service.ts";

const LAST_ERRORS = 20;
const ERROR_CHARS = 1000;

export interface JobsOverview {
  /** One row per task identifier that has jobs. */
  tasks: { task: string; queued: number; scheduled: number; running: number; failed: number }[];
  /** Latest jobs with an error, retrying or failed for good, newest first. */
  lastErrors: { id: string; task: string; lastError: string; attempts: number; maxAttempts: number; failed: boolean; updatedAt: string }[];
  worker: HealthReport["worker"];
}

/**
 * The job queue for administrators, read from graphile-worker's public `graphile_worker.jobs` view
 * (0.18; its tables are private). A job being run is locked; its attempts were already counted, so a
 * job on its last attempt is running, not failed. Failed jobs stay until removed; finished ones are gone.
 */
export async function readJobsOverview(db: Queryable): Promise<JobsOverview> {
  const tasks = await db.query(
    `SELECT task_identifier AS task,
            count(*) FILTER (WHERE locked_at IS NULL AND attempts < max_attempts AND run_at <= now())::int AS queued,
            count(*) FILTER (WHERE locked_at IS NULL AND attempts < max_attempts AND run_at > now())::int AS scheduled,
            count(*) FILTER (WHERE locked_at IS NOT NULL)::int AS running,
            count(*) FILTER (WHERE locked_at IS NULL AND attempts >= max_attempts)::int AS failed
     FROM graphile_worker.jobs GROUP BY task_identifier ORDER BY task_identifier`,
  );
  const errors = await db.query(
    `SELECT id::text, task_identifier, left(last_error, $2) AS last_error, attempts, max_attempts, updated_at,
            (locked_at IS NULL AND attempts >= max_attempts) AS failed
     FROM graphile_worker.jobs WHERE last_error IS NOT NULL ORDER BY updated_at DESC, id DESC LIMIT $1`,
    [LAST_ERRORS, ERROR_CHARS],
  );
  type ErrorRow = { id: string; task_identifier: string; last_error: string; attempts: number; max_attempts: number; updated_at: string | Date; failed: boolean };
  return {
    tasks: tasks.rows as JobsOverview["tasks"],
    lastErrors: (errors.rows as ErrorRow[]).map((r) => ({
      id: r.id,
      task: r.task_identifier,
      lastError: r.last_error,
      attempts: r.attempts,
      maxAttempts: r.max_attempts,
      failed: r.failed,
      updatedAt: new Date(r.updated_at).toISOString(),
    })),
    worker: await readWorkerHeartbeats(db),
  };
}
