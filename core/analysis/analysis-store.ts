/**
 * Writing what the analyser found (track_analysis, migration 0027) and what follows from it: the album's
 * loudness for its ReplayGain (album_loudness, migration 0030, which also follows tracks deleted or moved
 * between albums by itself), and a notification to the owners of the
 * libraries that hold the track, whose library page shows an analysis run's progress.
 */
import type pg from "pg";
import type { TrackFeatures } from "./track-features.ts";

/** The channel an analysed track is announced on: `{ o: owner id, l: library id }`, once per library. */
export const ANALYSIS_EVENTS_CHANNEL = "polyphony_analysis";

export type AnalysisOutcome = { status: "done"; features: TrackFeatures } | { status: "failed"; reason: string };

/**
 * Stores one track's result and its album's new loudness. The album row is locked first, so two tracks
 * of one album analysed side by side each see the other's result (one waits). False when the track is gone.
 */
export async function storeAnalysis(
  client: pg.PoolClient,
  track: { id: string; uploadId: string | null },
  version: string,
  outcome: AnalysisOutcome,
): Promise<boolean> {
  const { rows: albums } = await client.query<{ id: string }>(
    "SELECT a.id FROM track t JOIN album a ON a.id = t.album_id WHERE t.id = $1 FOR UPDATE OF a",
    [track.id],
  );
  const albumId = albums[0]?.id;
  if (!albumId) return false;
  const f = outcome.status === "done" ? outcome.features : null;
  await client.query(
    `INSERT INTO track_analysis (track_id, upload_id, analyser_version, status, error_message, analysed_at, duration_seconds,
       tempo_bpm, tempo_confidence, key_tonic, key_mode, key_strength, loudness_lufs, loudness_range_lu, true_peak_dbtp,
       energy, danceability, dynamic_complexity, extra)
     VALUES ($1, $2, $3, $4, $5, clock_timestamp(), $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
     ON CONFLICT (track_id) DO UPDATE SET upload_id = EXCLUDED.upload_id, analyser_version = EXCLUDED.analyser_version,
       status = EXCLUDED.status, error_message = EXCLUDED.error_message, analysed_at = EXCLUDED.analysed_at,
       duration_seconds = EXCLUDED.duration_seconds, tempo_bpm = EXCLUDED.tempo_bpm, tempo_confidence = EXCLUDED.tempo_confidence,
       key_tonic = EXCLUDED.key_tonic, key_mode = EXCLUDED.key_mode, key_strength = EXCLUDED.key_strength,
       loudness_lufs = EXCLUDED.loudness_lufs, loudness_range_lu = EXCLUDED.loudness_range_lu, true_peak_dbtp = EXCLUDED.true_peak_dbtp,
       energy = EXCLUDED.energy, danceability = EXCLUDED.danceability, dynamic_complexity = EXCLUDED.dynamic_complexity,
       extra = EXCLUDED.extra`,
    [
      track.id, track.uploadId, version, outcome.status, outcome.status === "failed" ? outcome.reason.slice(0, 2000) : null,
      f?.durationSeconds ?? null, f?.tempoBpm ?? null, f?.tempoConfidence ?? null, f?.keyTonic ?? null, f?.keyMode ?? null,
      f?.keyStrength ?? null, finite(f?.loudnessLufs), f?.loudnessRangeLu ?? null, finite(f?.truePeakDbtp), f?.energy ?? null,
      f?.danceability ?? null, f?.dynamicComplexity ?? null, JSON.stringify(f?.extra ?? {}),
    ],
  );
  // The power mean over the album's analysed tracks (migration 0030's refresh_album_loudness).
  await client.query("SELECT refresh_album_loudness($1)", [albumId]);
  await client.query(
    `SELECT pg_notify('${ANALYSIS_EVENTS_CHANNEL}', json_build_object('o', l.owner_id, 'l', l.id)::text)
     FROM library l WHERE l.owner_id IS NOT NULL AND l.id IN (SELECT library_id FROM upload WHERE track_id = $1)`,
    [track.id],
  );
  return true;
}

/** Silence measures -inf LUFS: no loudness to store (and none a gain could be computed from). */
function finite(value: number | null | undefined): number | null {
  return value === null || value === undefined || !Number.isFinite(value) ? null : value;
}
