/**
 * How fast an import goes and how long it has left (issue 19: progress a person can follow), from the
 * upload rows themselves, so the CLI, the web UI and any worker process agree: files settled (imported,
 * failed or skipped) in the last ten seconds, over the time they had.
 */
import type pg from "pg";

export interface ImportRate {
  /** Files settled a second lately; null before there is anything to measure. */
  filesPerSecond: number | null;
  /** Pending files at that rate; null when nothing is pending or there is no rate yet. */
  secondsLeft: number | null;
}

const WINDOW_SECONDS = 10;

export async function importRate(pool: pg.Pool, column: "batch_id" | "library_id", id: string): Promise<ImportRate> {
  const { rows } = await pool.query<{ recent: number; pending: number; seconds: number | null }>(
    `SELECT count(*) FILTER (WHERE status <> 'pending' AND updated_at > now() - make_interval(secs => $2))::int AS recent,
            count(*) FILTER (WHERE status = 'pending')::int AS pending,
            extract(epoch FROM now() - min(created_at) FILTER (
              WHERE status = 'pending' OR updated_at > now() - make_interval(secs => $2)))::float AS seconds
     FROM upload WHERE ${column} = $1`,
    [id, WINDOW_SECONDS],
  );
  const { recent, pending, seconds } = rows[0]!;
  const window = Math.min(WINDOW_SECONDS, seconds ?? 0);
  const filesPerSecond = recent > 0 && window >= 0.5 ? recent / window : null;
  return { filesPerSecond, secondsLeft: pending > 0 && filesPerSecond ? Math.ceil(pending / filesPerSecond) : null };
}

/** Seconds from the batch's first upload row to its last settled one (its import time, scan included). */
export async function batchSeconds(pool: pg.Pool, batchId: string): Promise<number | null> {
  const { rows } = await pool.query<{ seconds: number | null }>(
    "SELECT extract(epoch FROM max(updated_at) - min(created_at))::float AS seconds FROM upload WHERE batch_id = $1",
    [batchId],
  );
  return rows[0]?.seconds ?? null;
}
