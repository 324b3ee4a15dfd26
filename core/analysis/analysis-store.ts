/**
 * Writing what the analyser found (track_analysis, migration 0027) and what follows from it: the album's
 * loudness for its ReplayGain (album_loudness, migration 0030), and a notification to the owners of the
 * libraries that hold the track, whose library page shows an analysis run's progress.
 */
import type pg from "pg";
import { albumLoudness } from "./replay-gain.ts";
import type { TrackFeatures } from "./track-features.ts";

/** The channel an analysed track is announced on: `{ o: owner id, l: library id }`, once per library. */
export const ANALYSIS_EVENTS_CHANNEL = "polyphony_analysis";

export type AnalysisOutcome = { status: "done"; features: TrackFeatures } | { status: "failed"; reason: string };

export async function storeAnalysis(
  client: pg.PoolClient,
  track: { id: string; uploadId: string | null },
  version: string,
  outcome: AnalysisOutcome,
): Promise<void> {
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
  await refreshAlbumLoudness(client, track.id);
  await client.query(
    `SELECT pg_notify('${ANALYSIS_EVENTS_CHANNEL}', json_build_object('o', l.owner_id, 'l', l.id)::text)
     FROM library l WHERE l.owner_id IS NOT NULL AND l.id IN (SELECT library_id FROM upload WHERE track_id = $1)`,
    [track.id],
  );
}

/** Silence measures -inf LUFS: no loudness to store (and none a gain could be computed from). */
function finite(value: number | null | undefined): number | null {
  return value === null || value === undefined || !Number.isFinite(value) ? null : value;
}

/**
 * Recomputes the loudness of the track's album from its analysed tracks. The album row is locked first,
 * so two tracks of one album analysed side by side each see the other's result (one waits).
 */
export async function refreshAlbumLoudness(client: pg.PoolClient, trackId: string): Promise<void> {
  const { rows: albums } = await client.query<{ album_id: string }>(
    "SELECT a.id AS album_id FROM album a JOIN track t ON t.album_id = a.id WHERE t.id = $1 FOR UPDATE OF a",
    [trackId],
  );
  const albumId = albums[0]?.album_id;
  if (!albumId) return;
  const { rows } = await client.query<{ lufs: number; peak: number | null; seconds: number }>(
    `SELECT ta.loudness_lufs AS lufs, ta.true_peak_dbtp AS peak, coalesce(ta.duration_seconds, 1) AS seconds
     FROM track t JOIN track_analysis ta ON ta.track_id = t.id
     WHERE t.album_id = $1 AND ta.status = 'done' AND ta.loudness_lufs IS NOT NULL`,
    [albumId],
  );
  const album = albumLoudness(rows.map((r) => ({ loudnessLufs: r.lufs, truePeakDbtp: r.peak, durationSeconds: r.seconds })));
  if (!album) {
    await client.query("DELETE FROM album_loudness WHERE album_id = $1", [albumId]);
    return;
  }
  await client.query(
    `INSERT INTO album_loudness (album_id, loudness_lufs, true_peak_dbtp, track_count) VALUES ($1, $2, $3, $4)
     ON CONFLICT (album_id) DO UPDATE SET loudness_lufs = EXCLUDED.loudness_lufs, true_peak_dbtp = EXCLUDED.true_peak_dbtp,
       track_count = EXCLUDED.track_count, updated_at = now()`,
    [albumId, album.loudnessLufs, album.truePeakDbtp, rows.length],
  );
}
