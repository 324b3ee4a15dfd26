import type { Queryable } from "../jobs/enqueue.ts";
import type { FfmpegStatus } from "../media/transcoder.ts";

/** Workers write a heartbeat this often... */
export const HEARTBEAT_INTERVAL_MS = 5_000;
/** ...and one that has not for this long counts as gone. */
export const HEARTBEAT_STALE_SECONDS = 20;

export interface HealthReport {
  status: "ok" | "degraded" | "down";
  database: { ok: boolean; latencyMs?: number; error?: string };
  worker: { ok: boolean; running: number; lastSeenAt: string | null };
  queue: { ready: number; delayed: number; running: number; failed: number } | null;
  /** Optional: without it streams send original files, so it never changes `status`. */
  ffmpeg: FfmpegStatus;
}

/** Database reachability, live workers (from heartbeats), the job queue's state, and ffmpeg as found at start. */
export async function checkHealth(db: Queryable, ffmpeg: FfmpegStatus): Promise<HealthReport> {
  const started = performance.now();
  try {
    await db.query("SELECT 1");
  } catch (error) {
    return {
      status: "down",
      database: { ok: false, error: (error as Error).message },
      worker: { ok: false, running: 0, lastSeenAt: null },
      queue: null,
      ffmpeg,
    };
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  const worker = await readWorkerHeartbeats(db);
  const jobs = await db.query(
    `SELECT count(*) FILTER (WHERE locked_at IS NULL AND attempts < max_attempts AND run_at <= now())::int AS ready,
            count(*) FILTER (WHERE locked_at IS NULL AND attempts < max_attempts AND run_at > now())::int AS delayed,
            count(*) FILTER (WHERE locked_at IS NOT NULL)::int AS running,
            count(*) FILTER (WHERE attempts >= max_attempts)::int AS failed
     FROM graphile_worker.jobs`,
  );
  return {
    status: worker.ok ? "ok" : "degraded",
    database: { ok: true, latencyMs },
    worker,
    queue: jobs.rows[0] as HealthReport["queue"],
    ffmpeg,
  };
}

/** Worker processes alive (a heartbeat within HEARTBEAT_STALE_SECONDS) and the latest heartbeat of any. */
export async function readWorkerHeartbeats(db: Queryable): Promise<HealthReport["worker"]> {
  const beats = await db.query(
    `SELECT count(*) FILTER (WHERE seen_at > now() - make_interval(secs => $1))::int AS running, max(seen_at) AS last_seen
     FROM worker_heartbeat`,
    [HEARTBEAT_STALE_SECONDS],
  );
  // The ORM's pool hands timestamps back as strings.
  const { running, last_seen } = beats.rows[0] as { running: number; last_seen: string | Date | null };
  return { ok: running > 0, running, lastSeenAt: last_seen ? new Date(last_seen).toISOString() : null };
}

/**
 * Called by each worker process on an interval, with the ids its jobs are locked under. graphile-worker
 * locks a job with its worker pool's id (jobs.locked_by), not the id of the job slot running it.
 */
export async function recordHeartbeat(db: Queryable, workerId: string, startedAt: Date, poolIds: string[]): Promise<void> {
  await db.query(
    `INSERT INTO worker_heartbeat (worker_id, started_at, seen_at, graphile_worker_ids) VALUES ($1, $2, now(), $3)
     ON CONFLICT (worker_id) DO UPDATE SET seen_at = now(), graphile_worker_ids = EXCLUDED.graphile_worker_ids`,
    [workerId, startedAt, poolIds],
  );
}

/**
 * Releases jobs whose lock holder no live worker claims (its process was killed mid-job), so they run
 * again now rather than after graphile-worker's four-hour lock timeout. A job is only taken when no
 * heartbeat fresher than `deadAfterSeconds` lists its locker, however long it has been running.
 * Returns the lock holders' ids.
 */
export async function releaseJobsOfDeadWorkers(db: Queryable, deadAfterSeconds = HEARTBEAT_STALE_SECONDS): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT DISTINCT j.locked_by FROM graphile_worker.jobs j
     WHERE j.locked_by IS NOT NULL AND j.locked_at < now() - make_interval(secs => $1)
       AND NOT EXISTS (SELECT 1 FROM worker_heartbeat h
                       WHERE h.seen_at > now() - make_interval(secs => $1) AND j.locked_by = ANY(h.graphile_worker_ids))`,
    [deadAfterSeconds],
  );
  const dead = (rows as { locked_by: string }[]).map((r) => r.locked_by);
  if (dead.length) await db.query("SELECT graphile_worker.force_unlock_workers($1::text[])", [dead]);
  return dead;
}

export async function removeHeartbeat(db: Queryable, workerId: string): Promise<void> {
  await db.query("DELETE FROM worker_heartbeat WHERE worker_id = $1", [workerId]);
}

/** Heartbeat rows of workers silent for a day (their jobs were released long before). */
export async function deleteOldHeartbeats(db: Queryable): Promise<void> {
  await db.query("DELETE FROM worker_heartbeat WHERE seen_at < now() - interval '1 day'");
}
