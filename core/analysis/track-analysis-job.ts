/**
 * The work of one `analyze_track` job (issue 20): measure one of the track's files with the analyser and
 * store the result at the analyser's version. A track already analysed at that version is left alone; a
 * file the analyser cannot measure leaves a 'failed' row with the reason, and nothing else changes.
 */
import { getLogger } from "../../config/logging.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { RefusedFile } from "../media/safe-open.ts";
import { openUploadFile, uploadLocation, type UploadFileFields } from "../library/upload-files.ts";
import { storeAnalysis, type AnalysisOutcome } from "./analysis-store.ts";
import { AnalysisError, type AudioAnalyser } from "./track-features.ts";

const log = getLogger(["polyphony", "analysis"]);

export type TrackAnalysisResult = "done" | "failed" | "skipped" | "gone";

export interface TrackAnalysisDeps extends TransactionSource {
  mediaDir: string;
  analyser: AudioAnalyser;
  /** ANALYSIS_TIME_LIMIT_SECONDS, in ms. */
  timeLimitMs: number;
}

type Candidate = UploadFileFields & { id: string; duration_ms: number | null };

/**
 * Loudness reads the whole file: a long one gets its time limit plus a tenth of its length (a 2-hour
 * mix took 45 s on a busy 2-core machine), so only a file analysed slower than 10x real time fails.
 */
export const timeLimitFor = (baseMs: number, durationMs: number | null) => baseMs + Math.max(0, durationMs ?? 0) / 10;

export class TrackAnalysisJob {
  readonly #deps: TrackAnalysisDeps;

  constructor(deps: TrackAnalysisDeps) {
    this.#deps = deps;
  }

  /** `lastAttempt`: an unexpected error is stored as the reason instead of thrown for a retry. */
  async run(trackId: string, options: { lastAttempt: boolean; signal?: AbortSignal }): Promise<TrackAnalysisResult> {
    const { pool, analyser } = this.#deps;
    const { rows } = await pool.query<{ analyser_version: string | null }>(
      "SELECT ta.analyser_version FROM track t LEFT JOIN track_analysis ta ON ta.track_id = t.id WHERE t.id = $1",
      [trackId],
    );
    if (!rows[0]) return "gone";
    if (rows[0].analyser_version === analyser.version) return "skipped";
    const file = await this.#localFile(trackId);
    let outcome: AnalysisOutcome;
    if (!file) {
      outcome = { status: "failed", reason: "No copy of this track's audio is on this server" };
    } else {
      try {
        const features = await analyser.analyse(file.path, { signal: options.signal, timeLimitMs: timeLimitFor(this.#deps.timeLimitMs, file.durationMs) });
        outcome = { status: "done", features };
      } catch (error) {
        if (!(error instanceof AnalysisError) && !options.lastAttempt) throw error;
        const message = error instanceof Error ? error.message : String(error);
        outcome = { status: "failed", reason: error instanceof AnalysisError ? message : `The analysis failed on the server: ${message}` };
      }
    }
    if (outcome.status === "failed") log.info("Track {trackId} could not be analysed: {reason}", { trackId, reason: outcome.reason });
    // False when the track went while it was measured (its last upload deleted).
    const stored = await withTransaction(this.#deps, ({ sql }) =>
      storeAnalysis(sql, { id: trackId, uploadId: file?.uploadId ?? null }, analyser.version, outcome));
    return stored ? outcome.status : "gone";
  }

  /**
   * A file of the track on this server's disk: its local uploads first (lossless, then the highest bit
   * rate), then a remote upload's cached copy. Opened through its folder's boundary (safe-open.ts) before
   * the analyser is handed its path, so a link out of the folder is never followed.
   */
  async #localFile(trackId: string): Promise<{ path: string; uploadId: string; durationMs: number | null } | undefined> {
    const { rows } = await this.#deps.pool.query<Candidate>(
      `SELECT id, storage, path, root, cached_path, duration_ms FROM upload
       WHERE track_id = $1 AND status = 'finished' AND (storage <> 'remote' OR cached_path IS NOT NULL)
       ORDER BY storage = 'remote', lossless DESC NULLS LAST, bitrate DESC NULLS LAST, id LIMIT 5`,
      [trackId],
    );
    for (const upload of rows) {
      try {
        const opened = await openUploadFile(this.#deps.mediaDir, upload);
        await opened.handle.close();
        return { path: uploadLocation(this.#deps.mediaDir, upload).file, uploadId: upload.id, durationMs: upload.duration_ms };
      } catch (error) {
        if (!(error instanceof RefusedFile)) throw error;
      }
    }
    return undefined;
  }
}
