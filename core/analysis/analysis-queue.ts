/**
 * Queuing `analyze_track` jobs (issue 20). They go behind everything else (a low priority: graphile-worker
 * takes lower numbers first), so imports and federation deliveries never wait for analysis, and into
 * ANALYSIS_CONCURRENCY named queues: graphile-worker runs one job of a named queue at a time across all
 * worker processes, so at most that many tracks are analysed at once. One job per track (its job key):
 * a track queued again before its job started keeps one job.
 */
import type { Queryable } from "../jobs/enqueue.ts";

export const ANALYZE_TRACK_TASK = "analyze_track";
export const ANALYZE_LIBRARY_TASK = "analyze_library";
export const ANALYSIS_PRIORITY = 100;
const MAX_ATTEMPTS = 3;

/**
 * Queues a job for each track `trackIdsSql` selects (a SELECT of one uuid column, whose parameters are
 * `values`); `queues` is ANALYSIS_CONCURRENCY. Runs in the caller's transaction. Returns how many.
 */
export async function enqueueAnalysisOf(db: Queryable, trackIdsSql: string, values: unknown[], queues: number): Promise<number> {
  const q = values.length + 1;
  const { rows } = await db.query(
    `WITH picked AS (SELECT DISTINCT id FROM (${trackIdsSql}) s(id) WHERE id IS NOT NULL)
     SELECT count(*)::int AS n FROM graphile_worker.add_jobs((
       SELECT array_agg(ROW('${ANALYZE_TRACK_TASK}', json_build_object('trackId', id), 'analysis-' || (abs(hashtext(id::text)) % $${q}),
         NULL, ${MAX_ATTEMPTS}, '${ANALYZE_TRACK_TASK}:' || id, ${ANALYSIS_PRIORITY}, NULL)::graphile_worker.job_spec)
       FROM picked))`,
    [...values, Math.max(1, queues)],
  );
  return (rows[0] as { n: number }).n;
}

/** Queues the analysis of tracks by id. */
export async function enqueueTrackAnalysis(db: Queryable, trackIds: string[], queues: number): Promise<void> {
  if (!trackIds.length) return;
  await enqueueAnalysisOf(db, "SELECT unnest($1::uuid[])", [trackIds], queues);
}
