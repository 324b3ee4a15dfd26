// Audio features for tests that read them (aggregates, dashboards, playlists) rather than test the
// analyser: rows written as the analyser leaves them in track_analysis (migration 0027).
import type pg from "pg";
import type { TrackFeatures } from "../../core/analysis/track-features.ts";

/** Features not given are null (not measured); `duration` defaults to three minutes. */
export type FeatureSeed = Partial<TrackFeatures>;

/** Stores a finished analysis of a track (status 'done'), replacing any earlier one. */
export async function seedFeatures(pool: pg.Pool, trackId: string, features: FeatureSeed): Promise<void> {
  const f = features;
  await pool.query(
    `INSERT INTO track_analysis (track_id, analyser_version, status, duration_seconds, tempo_bpm, tempo_confidence, key_tonic, key_mode,
                                 key_strength, loudness_lufs, loudness_range_lu, true_peak_dbtp, energy, danceability, dynamic_complexity, extra)
     VALUES ($1, 'test-1', 'done', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT (track_id) DO UPDATE SET status = 'done', error_message = NULL, duration_seconds = excluded.duration_seconds,
       tempo_bpm = excluded.tempo_bpm, tempo_confidence = excluded.tempo_confidence, key_tonic = excluded.key_tonic,
       key_mode = excluded.key_mode, key_strength = excluded.key_strength, loudness_lufs = excluded.loudness_lufs,
       loudness_range_lu = excluded.loudness_range_lu, true_peak_dbtp = excluded.true_peak_dbtp, energy = excluded.energy,
       danceability = excluded.danceability, dynamic_complexity = excluded.dynamic_complexity, extra = excluded.extra`,
    [trackId, f.durationSeconds ?? 180, f.tempoBpm ?? null, f.tempoConfidence ?? null, f.keyTonic ?? null, f.keyMode ?? null,
      f.keyStrength ?? null, f.loudnessLufs ?? null, f.loudnessRangeLu ?? null, f.truePeakDbtp ?? null, f.energy ?? null,
      f.danceability ?? null, f.dynamicComplexity ?? null, JSON.stringify(f.extra ?? {})],
  );
}

/** Stores a failed analysis with its reason (no features). */
export async function seedFailedAnalysis(pool: pg.Pool, trackId: string, reason = "not audio"): Promise<void> {
  await pool.query(
    `INSERT INTO track_analysis (track_id, analyser_version, status, error_message) VALUES ($1, 'test-1', 'failed', $2)
     ON CONFLICT (track_id) DO UPDATE SET status = 'failed', error_message = $2`,
    [trackId, reason],
  );
}
