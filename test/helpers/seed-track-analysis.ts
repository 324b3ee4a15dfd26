// track_analysis rows for tests that read audio features (smart playlists, more like this) without
// running the analyser: written as the worker would leave a finished analysis (migration 0027).
import type pg from "pg";
import type { TrackFeatures } from "../../core/analysis/track-features.ts";

/** Any features left out are null (not measured); duration defaults to 200 s. */
export type FeatureSeed = Partial<TrackFeatures>;

export async function seedTrackAnalysis(pool: pg.Pool, trackId: string, features: FeatureSeed): Promise<void> {
  const f = features;
  await pool.query(
    `INSERT INTO track_analysis (track_id, analyser_version, status, duration_seconds, tempo_bpm, tempo_confidence, key_tonic, key_mode,
       key_strength, loudness_lufs, loudness_range_lu, true_peak_dbtp, energy, danceability, dynamic_complexity, extra)
     VALUES ($1, 'test', 'done', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT (track_id) DO UPDATE SET status = 'done', error_message = NULL, duration_seconds = EXCLUDED.duration_seconds,
       tempo_bpm = EXCLUDED.tempo_bpm, tempo_confidence = EXCLUDED.tempo_confidence, key_tonic = EXCLUDED.key_tonic,
       key_mode = EXCLUDED.key_mode, key_strength = EXCLUDED.key_strength, loudness_lufs = EXCLUDED.loudness_lufs,
       loudness_range_lu = EXCLUDED.loudness_range_lu, true_peak_dbtp = EXCLUDED.true_peak_dbtp, energy = EXCLUDED.energy,
       danceability = EXCLUDED.danceability, dynamic_complexity = EXCLUDED.dynamic_complexity, extra = EXCLUDED.extra`,
    [
      trackId,
      f.durationSeconds ?? 200,
      f.tempoBpm ?? null,
      f.tempoConfidence ?? null,
      f.keyTonic ?? null,
      f.keyMode ?? null,
      f.keyStrength ?? null,
      f.loudnessLufs ?? null,
      f.loudnessRangeLu ?? null,
      f.truePeakDbtp ?? null,
      f.energy ?? null,
      f.danceability ?? null,
      f.dynamicComplexity ?? null,
      JSON.stringify(f.extra ?? {}),
    ],
  );
}

/** A track whose file could not be analysed: a row with the reason and no features. */
export async function seedFailedAnalysis(pool: pg.Pool, trackId: string, reason = "not audio"): Promise<void> {
  await pool.query(
    `INSERT INTO track_analysis (track_id, analyser_version, status, error_message) VALUES ($1, 'test', 'failed', $2)`,
    [trackId, reason],
  );
}
