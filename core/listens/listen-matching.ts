import { bestCopySql, itemInLibrariesSql } from "../catalog/catalog-read.ts";

/**
 * How far a listen's reported length may be from the track's (the copy the listener hears) and still
 * name the same recording: a stream, a rip and a remaster of one recording differ by a few seconds;
 * a live or extended version by far more.
 */
export const MATCH_DURATION_TOLERANCE_MS = 10_000;

/** The names a listen is matched and counted under (search_normalize, migration 0005). */
export const normalizedSql = (expr: string) => `search_normalize(${expr})`;

/** SQL: track `t`'s artist as credited, join phrases included ("A feat. B"), else its one artist `ar`. */
const creditedArtistSql = (t: string, ar: string) =>
  `coalesce((SELECT string_agg(c.credited_name || c.join_phrase, '' ORDER BY c.position) FROM artist_credit c
             WHERE c.track_id = ${t}.id), ${ar}.name)`;

/** The columns of a listen (an alias, or a row of submitted values) a match reads. */
export interface ListenColumns {
  trackName: string;
  artistName: string;
  releaseName: string;
  durationMs: string;
  recordingMbid: string;
}

/**
 * SQL expression: the id of the catalog track a listen names, among the tracks with a finished copy in
 * `libraries` (a uuid[] expression: the libraries the listener may see), or null. First by MusicBrainz
 * recording id; then by the same normalised title and artist (the credited artists, with or without
 * join phrases, or the main artist) and a length within MATCH_DURATION_TOLERANCE_MS when both are
 * known. Among several, the one on the same release, then the closest length, then by id (stable).
 * `onlyTracks` (SQL condition on `t`) narrows the candidates (tracks just imported).
 */
export function matchedTrackSql(l: ListenColumns, libraries: string, onlyTracks = "true"): string {
  const sameRelease = `(${normalizedSql("a.title")} = ${normalizedSql(l.releaseName)}) IS TRUE DESC`;
  const byMbid = `SELECT t.id FROM track t JOIN album a ON a.id = t.album_id
    WHERE ${l.recordingMbid} IS NOT NULL AND t.mbid = ${l.recordingMbid} AND ${onlyTracks}
      AND ${itemInLibrariesSql("tracks", "t", libraries)}
    ORDER BY ${sameRelease}, t.id LIMIT 1`;
  const length = `abs(d.duration_ms - ${l.durationMs})`;
  const byNames = `SELECT t.id FROM search_document sd JOIN track t ON t.id = sd.id JOIN album a ON a.id = t.album_id
      JOIN artist ar ON ar.id = t.artist_id
      LEFT JOIN LATERAL (${bestCopySql("t.id", { libraries }, "u.duration_ms")}) d ON true
    WHERE sd.kind = 'track' AND sd.name_key = ${normalizedSql(l.trackName)} AND ${onlyTracks}
      AND search_visible(sd.library_ids, ${libraries})
      AND ${normalizedSql(l.artistName)} IN (sd.extra_key, ${normalizedSql("ar.name")}, ${normalizedSql(creditedArtistSql("t", "ar"))})
      AND (${length} IS NULL OR ${length} <= ${MATCH_DURATION_TOLERANCE_MS})
    ORDER BY ${sameRelease}, ${length} NULLS LAST, t.id LIMIT 1`;
  return `coalesce((${byMbid}), (${byNames}))`;
}
