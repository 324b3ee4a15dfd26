// Analysed features for a synthetic catalog (bench/catalog-fixtures.ts), written straight into
// track_analysis with set-based SQL, as the analyser would leave them: tempo around 120 BPM, keys
// spread over the 24, loudness around -10 LUFS with a drift over release years, energy and
// danceability on 0..1. One track in fifty failed (no features), so "analysed of total" is not trivial.
import type pg from "pg";

/** Seeded 0..1 from a track number and a salt: repeatable across runs. */
const unit = (salt: number) => `((hashint4(k * ${salt}) & 2147483647)::float8 / 2147483648)`;

/** Writes one analysis row for each of the first `tracks` tracks of the fixture `namespace`. */
export async function loadAnalysisFixture(pool: pg.Pool, tracks: number, namespace = "fixture"): Promise<void> {
  const ns = namespace.replace(/\W/g, "");
  await pool.query(`
    INSERT INTO track_analysis (track_id, analyser_version, status, error_message, duration_seconds, tempo_bpm, tempo_confidence,
                                key_tonic, key_mode, key_strength, loudness_lufs, loudness_range_lu, true_peak_dbtp,
                                energy, danceability, dynamic_complexity)
    SELECT md5('${ns}-track-' || k)::uuid, 'bench-1', CASE WHEN failed THEN 'failed' ELSE 'done' END,
           CASE WHEN failed THEN 'bench: unreadable' END, CASE WHEN NOT failed THEN 120 + 300 * ${unit(3)} END,
           CASE WHEN NOT failed THEN round((70 + 110 * (${unit(5)} + ${unit(7)}) / 2)::numeric, 1) END, CASE WHEN NOT failed THEN ${unit(11)} END,
           CASE WHEN NOT failed THEN (ARRAY['C','C#','D','D#','E','F','F#','G','G#','A','A#','B'])[1 + floor(12 * ${unit(13)})::int] END,
           CASE WHEN NOT failed THEN CASE WHEN ${unit(17)} < 0.6 THEN 'major' ELSE 'minor' END END, CASE WHEN NOT failed THEN ${unit(19)} END,
           CASE WHEN NOT failed THEN -20 + 14 * (${unit(23)} + ${unit(29)}) / 2 + (k % 65) / 13.0 END, CASE WHEN NOT failed THEN 3 + 12 * ${unit(31)} END,
           CASE WHEN NOT failed THEN -3 * ${unit(37)} END, CASE WHEN NOT failed THEN ${unit(41)} END, CASE WHEN NOT failed THEN ${unit(43)} END,
           CASE WHEN NOT failed THEN 1 + 8 * ${unit(47)} END
    FROM (SELECT k, k % 50 = 0 AS failed FROM generate_series(1, ${tracks}) k) x`);
  await pool.query("VACUUM ANALYZE track_analysis");
}
