/**
 * "Analyse what is missing" for a library (issue 20): a run picks the library's tracks with no analysis
 * at the worker's analyser version (never analysed, failed or measured by an older version) and queues
 * an `analyze_track` job for each. Its progress (done / total, rate, time left) is counted from the
 * track_analysis rows written since the run began, like an import's from its upload rows (import-rate.ts).
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { User } from "../accounts/user.entity.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { NotFound } from "../errors.ts";
import { enqueueJob } from "../jobs/enqueue.ts";
import { ANALYSIS_PRIORITY, ANALYZE_LIBRARY_TASK, enqueueAnalysisOf } from "./analysis-queue.ts";

/** Tracks analysed in this many last seconds give the rate. */
const RATE_WINDOW_SECONDS = 30;

export interface AnalysisRunProgress {
  id: string;
  /** preparing: the worker has not picked the tracks yet. */
  state: "preparing" | "running" | "finished";
  analyserVersion: string | null;
  startedAt: string;
  total: number;
  /** Tracks analysed since the run began (failed ones included), and of those the failed. */
  done: number;
  failed: number;
  tracksPerSecond: number | null;
  secondsLeft: number | null;
}

export interface LibraryAnalysis {
  /** The library's tracks, those with features (any analyser version) and those that could not be analysed. */
  tracks: number;
  analysed: number;
  failed: number;
  /** The latest run, or null before the first. */
  run: AnalysisRunProgress | null;
}

export class AnalysisRunsService {
  readonly #db: TransactionSource;
  readonly #queues: number;

  /** `queues`: ANALYSIS_CONCURRENCY (analysis-queue.ts). */
  constructor(deps: TransactionSource & { queues: number }) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#queues = deps.queues;
  }

  /** Starts a run unless one is still going (then that one). Owner or administrator: otherwise NotFound. */
  async start(user: User, libraryId: string): Promise<LibraryAnalysis> {
    await this.#authorize(user, libraryId);
    return this.startForOperator(libraryId, user.id);
  }

  /** `start` for the command line (no account: the operator may run it on any local library). */
  async startForOperator(libraryId: string, requestedBy: string | null = null): Promise<LibraryAnalysis> {
    await withTransaction(this.#db, async ({ sql }) => {
      // One start at a time per library: two clicks make one run.
      const { rowCount } = await sql.query("SELECT 1 FROM library WHERE id = $1 AND owner_id IS NOT NULL FOR UPDATE", [libraryId]);
      if (!rowCount) throw new NotFound("library");
      const latest = await this.#latest(libraryId, sql);
      if (latest && latest.state !== "finished") return;
      const id = randomUUID();
      await sql.query("INSERT INTO analysis_run (id, library_id, requested_by) VALUES ($1, $2, $3)", [id, libraryId, requestedBy]);
      await enqueueJob(sql, ANALYZE_LIBRARY_TASK, { runId: id }, { priority: ANALYSIS_PRIORITY - 1, maxAttempts: 5 });
    });
    return this.progressForOperator(libraryId);
  }

  async progress(user: User, libraryId: string): Promise<LibraryAnalysis> {
    await this.#authorize(user, libraryId);
    return this.progressForOperator(libraryId);
  }

  /**
   * The worker's part: picks the run's tracks (none analysed at `version`) and queues their jobs, in one
   * transaction. A run prepared already is left alone (a retried job).
   */
  async prepare(runId: string, version: string): Promise<number> {
    return withTransaction(this.#db, async ({ sql }) => {
      const { rowCount } = await sql.query(
        "UPDATE analysis_run SET analyser_version = $2, prepared_at = now() WHERE id = $1 AND prepared_at IS NULL",
        [runId, version],
      );
      if (!rowCount) return 0;
      await sql.query(
        `INSERT INTO analysis_run_track (run_id, track_id)
         SELECT DISTINCT r.id, u.track_id FROM analysis_run r
           JOIN upload u ON u.library_id = r.library_id AND u.status = 'finished' AND u.track_id IS NOT NULL
           LEFT JOIN track_analysis ta ON ta.track_id = u.track_id
         WHERE r.id = $1 AND (ta.track_id IS NULL OR ta.analyser_version <> $2)`,
        [runId, version],
      );
      return enqueueAnalysisOf(sql, "SELECT track_id FROM analysis_run_track WHERE run_id = $1", [runId], this.#queues);
    });
  }

  async #authorize(user: User, libraryId: string): Promise<void> {
    const { rows } = await this.#db.pool.query<{ owner_id: string }>(
      "SELECT owner_id FROM library WHERE id = $1 AND owner_id IS NOT NULL",
      [libraryId],
    );
    const owner = rows[0]?.owner_id;
    if (!owner || (owner !== user.id && user.role !== "admin")) throw new NotFound("library");
  }

  /** `progress` for the command line. */
  async progressForOperator(libraryId: string): Promise<LibraryAnalysis> {
    const { rows } = await this.#db.pool.query<{ tracks: number; analysed: number; failed: number }>(
      `SELECT count(*)::int AS tracks, count(*) FILTER (WHERE ta.status = 'done')::int AS analysed,
         count(*) FILTER (WHERE ta.status = 'failed')::int AS failed
       FROM (SELECT DISTINCT track_id FROM upload WHERE library_id = $1 AND status = 'finished' AND track_id IS NOT NULL) t
       LEFT JOIN track_analysis ta ON ta.track_id = t.track_id`,
      [libraryId],
    );
    return { ...rows[0]!, run: await this.#latest(libraryId, this.#db.pool) };
  }

  async #latest(libraryId: string, db: pg.Pool | pg.PoolClient): Promise<AnalysisRunProgress | null> {
    const { rows } = await db.query<{
      id: string; analyser_version: string | null; created_at: Date | string; prepared: boolean;
      total: number; done: number; failed: number; recent: number; seconds: number; run_seconds: number | null;
    }>(
      `SELECT r.id, r.analyser_version, r.created_at, r.prepared_at IS NOT NULL AS prepared, c.*,
         extract(epoch FROM clock_timestamp() - r.created_at)::float AS seconds
       FROM analysis_run r, LATERAL (
         SELECT count(*)::int AS total, count(ta.track_id)::int AS done,
           count(ta.track_id) FILTER (WHERE ta.status = 'failed')::int AS failed,
           count(ta.track_id) FILTER (WHERE ta.analysed_at > clock_timestamp() - make_interval(secs => $2))::int AS recent,
           extract(epoch FROM max(ta.analysed_at) - r.created_at)::float AS run_seconds
         FROM analysis_run_track rt
         LEFT JOIN track_analysis ta ON ta.track_id = rt.track_id AND ta.analysed_at >= r.created_at
           AND ta.analyser_version = r.analyser_version
         WHERE rt.run_id = r.id) c
       WHERE r.library_id = $1 ORDER BY r.created_at DESC LIMIT 1`,
      [libraryId, RATE_WINDOW_SECONDS],
    );
    const r = rows[0];
    if (!r) return null;
    const left = r.total - r.done;
    // While running: the recent rate, which follows changes. Once finished: the whole run's, which stays put.
    const window = Math.min(RATE_WINDOW_SECONDS, r.seconds);
    const tracksPerSecond = r.prepared && left === 0
      ? (r.done > 0 && r.run_seconds !== null ? r.done / Math.max(r.run_seconds, 0.001) : null)
      : (r.recent > 0 && window >= 0.5 ? r.recent / window : null);
    return {
      id: r.id,
      state: !r.prepared ? "preparing" : left > 0 ? "running" : "finished",
      analyserVersion: r.analyser_version,
      startedAt: new Date(r.created_at).toISOString(), // the pool may hand timestamps over as text
      total: r.total,
      done: r.done,
      failed: r.failed,
      tracksPerSecond,
      secondsLeft: left > 0 && tracksPerSecond ? Math.ceil(left / tracksPerSecond) : null,
    };
  }
}
