import type pg from "pg";
import { visibleItemSql } from "../catalog/catalog-read.ts";
import { KEY_TONICS } from "./track-features.ts";

// "More like this" (issue 20, point 6): the nearest neighbours of a track (or of an album's or an
// artist's tracks, averaged) in a space of normalised audio features, among the analysed tracks the
// viewer may see.
//
// Each of tempo, energy, danceability, loudness and dynamic complexity becomes a z-score (minus the
// mean, over the standard deviation, of every analysed track on the server), so that no unit outweighs
// another; a measure the analyser could not take counts as the mean (0). The key is a point on the unit
// circle at its place on the circle of fifths, a minor key at its relative major's (A minor with C
// major): neighbouring keys are 0.52 apart, opposite ones (C and F#) 2, about two standard deviations
// of one feature. Distance is Euclidean over these seven coordinates; ties go by track id.

/** The five z-scored measures, by column. */
const MEASURES = ["tempo_bpm", "energy", "danceability", "loudness_lufs", "dynamic_complexity"] as const;

/**
 * SQL: the angle (radians) of row `ta`'s key on the circle of fifths, or null without a key. A tonic's
 * place is 7 semitone-steps per fifth (mod 12); a minor key sits at its relative major, 3 semitones up.
 */
function keyAngleSql(ta: string): string {
  const tonics = `ARRAY[${KEY_TONICS.map((k) => `'${k}'`).join(", ")}]`;
  return `(pi() / 6 * ((((array_position(${tonics}, ${ta}.key_tonic) - 1) + CASE WHEN ${ta}.key_mode = 'minor' THEN 3 ELSE 0 END) * 7) % 12))`;
}

/** SQL: the mean and standard deviation of each measure over every analysed track (one row). */
const STATS = `SELECT ${MEASURES.map((m) => `avg(${m}) AS mean_${m}, nullif(stddev_pop(${m}), 0) AS sd_${m}`).join(", ")}
  FROM track_analysis WHERE status = 'done'`;

/** SQL: the coordinates of analysed row `ta` against stats `s`, named as COORDINATES. */
function coordinatesSql(ta: string, s: string): string {
  const angle = keyAngleSql(ta);
  return [
    ...MEASURES.map((m) => `coalesce((${ta}.${m} - ${s}.mean_${m}) / ${s}.sd_${m}, 0) AS f_${m}`),
    `coalesce(cos(${angle}), 0) AS key_x`,
    `coalesce(sin(${angle}), 0) AS key_y`,
  ].join(", ");
}

const COORDINATES = [...MEASURES.map((m) => `f_${m}`), "key_x", "key_y"];

export interface Neighbour {
  trackId: string;
  /** Euclidean distance in the normalised space (see above). */
  distance: number;
}

/**
 * The ids of the tracks `id` names that the viewer sees: the track itself, or (unless `trackOnly`) an
 * album's tracks, or those an artist is credited on or is the album artist of. Empty when it names
 * nothing visible.
 */
export async function seedTrackIds(pool: pg.Pool, viewerId: string | null, id: string, trackOnly = false): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT t.id FROM track t JOIN album al ON al.id = t.album_id
     WHERE (t.id = $2 OR (NOT $3 AND (t.album_id = $2 OR al.album_artist_id = $2
            OR EXISTS (SELECT 1 FROM artist_credit c WHERE c.track_id = t.id AND c.artist_id = $2))))
       AND ${visibleItemSql("tracks", "t", "$1")}`,
    [viewerId, id, trackOnly],
  );
  return rows.map((r) => r.id);
}

/**
 * The `limit` analysed tracks the viewer sees nearest to the mean of the seeds' coordinates, nearest
 * first, the seeds left out; null when none of the seeds is analysed (there is nothing to compare).
 */
export async function nearestTracks(pool: pg.Pool, viewerId: string | null, seeds: string[], limit: number): Promise<Neighbour[] | null> {
  // Every analysed track is ranked first, and visibility is checked in that order only until the page
  // is full (OFFSET 0 keeps the check out of the sorted subquery): one probe a row shown, not a row analysed.
  const { rows } = await pool.query<{ track_id: string | null; distance: number | null }>(
    `WITH s AS MATERIALIZED (${STATS}),
       q AS MATERIALIZED (SELECT ${COORDINATES.map((c) => `avg(${c}) AS ${c}`).join(", ")}, count(*) AS n
         FROM (SELECT ${coordinatesSql("ta", "s")} FROM track_analysis ta CROSS JOIN s
               WHERE ta.track_id = ANY($2::uuid[]) AND ta.status = 'done') seed)
     SELECT n.track_id, n.distance FROM (
       SELECT v.track_id, sqrt(${COORDINATES.map((c) => `power(v.${c} - q.${c}, 2)`).join(" + ")}) AS distance
       FROM (SELECT ta.track_id, ${coordinatesSql("ta", "s")} FROM track_analysis ta CROSS JOIN s
             WHERE ta.status = 'done' AND ta.track_id <> ALL($2::uuid[])) v CROSS JOIN q
       WHERE q.n > 0 ORDER BY distance, v.track_id OFFSET 0) n
     JOIN track t ON t.id = n.track_id WHERE ${visibleItemSql("tracks", "t", "$1")}
     ORDER BY n.distance, n.track_id LIMIT $3`,
    [viewerId, seeds, limit],
  );
  if (!rows.length) {
    // Nothing near: say whether there was anything to compare.
    const analysed = await pool.query("SELECT 1 FROM track_analysis WHERE track_id = ANY($1::uuid[]) AND status = 'done' LIMIT 1", [seeds]);
    if (!analysed.rowCount) return null;
  }
  return rows.map((r) => ({ trackId: r.track_id!, distance: r.distance! }));
}
