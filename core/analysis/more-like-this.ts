import type pg from "pg";
import { visibleItemSql } from "../catalog/catalog-read.ts";
import { summarise, type StatFeature } from "./analysis-stats.ts";
import { statsOfCells } from "./analysis-stats.queries.ts";
import { KEY_TONICS } from "./track-features.ts";

// "More like this" (issue 20, point 6): the nearest neighbours of a track (or of an album's or an
// artist's tracks, averaged) in a space of normalised audio features, among the analysed tracks the
// viewer may see.
//
// Each of tempo, energy, danceability, loudness and dynamic complexity becomes a z-score (minus the
// mean, over the standard deviation, of every analysed track in a library on the server), so that no unit outweighs
// another; a measure the analyser could not take counts as the mean (0). The key is a point on the unit
// circle at its place on the circle of fifths, a minor key at its relative major's (A minor with C
// major): neighbouring keys are 0.52 apart, opposite ones (C and F#) 2, about two standard deviations
// of one feature. Distance is Euclidean over these seven coordinates; ties go by track id.

/** The five z-scored measures: their columns, and their names in the cells' stats. */
const MEASURES = [
  ["tempo_bpm", "tempo"], ["energy", "energy"], ["danceability", "danceability"], ["loudness_lufs", "loudness"],
  ["dynamic_complexity", "dynamicComplexity"],
] as const satisfies readonly (readonly [string, StatFeature])[];

/**
 * Each key's point on the unit circle: [tonic, mode, x, y]. A tonic's place on the circle of fifths is
 * 7 semitone-steps per fifth (mod 12); a minor key sits at its relative major, 3 semitones up.
 */
const KEY_POINTS = KEY_TONICS.flatMap((tonic, i) => (["major", "minor"] as const).map((mode) => {
  const angle = (Math.PI / 6) * ((((i + (mode === "minor" ? 3 : 0)) * 7) % 12));
  return [tonic, mode, Math.cos(angle), Math.sin(angle)] as const;
}));

/**
 * SQL: analysed tracks (the seeds) with their coordinates (COORDINATES), against the means ($2) and
 * standard deviations ($3, null when 0) of the measures, in MEASURES order. `where` picks the rows of `ta`.
 */
function coordinatesSql(where: string): string {
  return `SELECT ta.track_id, ${MEASURES.map(([m], i) => `coalesce((ta.${m} - ($2::float8[])[${i + 1}]) / ($3::float8[])[${i + 1}], 0) AS f_${m}`).join(", ")},
      coalesce(k.x, 0) AS key_x, coalesce(k.y, 0) AS key_y
    FROM track_analysis ta LEFT JOIN (VALUES ${KEY_POINTS.map(([tonic, mode, x, y]) => `('${tonic}', '${mode}', ${x}::float8, ${y}::float8)`).join(", ")})
      AS k(tonic, mode, x, y) ON k.tonic = ta.key_tonic AND k.mode = ta.key_mode
    WHERE ta.status = 'done' AND ${where}`;
}

const COORDINATES = [...MEASURES.map(([m]) => `f_${m}`), "key_x", "key_y"];

/**
 * The mean and standard deviation of each measure over every analysed track in a library, from the
 * precomputed cells of the feature aggregates (migrations/0029; a stale cell is recomputed first), so
 * they are exact and current without a pass over every analysed track per request.
 */
async function scale(pool: pg.Pool): Promise<{ means: (number | null)[]; sds: (number | null)[] }> {
  const { features } = await statsOfCells(pool, "server");
  const summaries = MEASURES.map(([, f]) => summarise(features[f]));
  return { means: summaries.map((s) => s.mean), sds: summaries.map((s) => s.stddev || null) };
}

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
 * `candidates`: how many of the nearest are ranked before visibility is checked (see below).
 */
export async function nearestTracks(
  pool: pg.Pool, viewerId: string | null, seeds: string[], limit: number, candidates = Math.max(1000, 10 * limit),
): Promise<Neighbour[] | null> {
  const { means, sds } = await scale(pool);
  // The query point: the mean of the seeds' coordinates (a few rows).
  const { rows: [q] } = await pool.query<Record<string, number | null> & { n: number }>(
    `SELECT ${COORDINATES.map((c) => `avg(${c}) AS ${c}`).join(", ")}, count(*)::int AS n
     FROM (${coordinatesSql("ta.track_id = ANY($1::uuid[])")}) seed`,
    [seeds, means, sds],
  );
  if (!q!.n) return null; // nothing to compare
  // Per row, one multiplication a measure: (x - mean) / sd - q = (x - c) / sd with c = mean + q sd; a
  // measure not taken is at the mean, -q from the query. The constants are written into the statement
  // (numbers computed here, never input): as columns of a joined row they cost a third of the time.
  const num = (x: number | null) => (x === null || !Number.isFinite(x) ? "NULL::float8" : `${x}::float8`);
  const terms = MEASURES.map(([m], i) => {
    const [mean, sd, z] = [means[i] ?? null, sds[i] ?? null, q![`f_${m}`] ?? 0];
    return sd === null || mean === null ? `${num(-z)} ^ 2` : `coalesce((ta.${m} - ${num(mean + z * sd)}) * ${num(1 / sd)}, ${num(-z)}) ^ 2`;
  });
  // The key term per key (24 of them), and for a track without a key (at the origin).
  const keyTerm = (x: number, y: number) => (x - q!.key_x!) ** 2 + (y - q!.key_y!) ** 2;
  const keyTerms = `(VALUES ${KEY_POINTS.map(([tonic, mode, x, y]) => `('${tonic}', '${mode}', ${num(keyTerm(x, y))})`).join(", ")}) AS k(tonic, mode, d2)`;
  // Every analysed track is ranked first, and visibility is checked in that order only until the page
  // is full (OFFSET 0 keeps the check out of the ranking subquery): one probe a row shown, not a row
  // analysed. Ranking keeps only the nearest `candidates` (a top-N sort, not a sort of every track);
  // when too few of them are visible, the ranking is done again over every track.
  const nearest = (cap: number | null) => pool.query<{ track_id: string; distance: number }>(
    `SELECT n.track_id, sqrt(n.d2) AS distance FROM (
       SELECT ta.track_id, ${terms.join(" + ")} + coalesce(k.d2, ${num(keyTerm(0, 0))}) AS d2
       FROM track_analysis ta LEFT JOIN ${keyTerms} ON k.tonic = ta.key_tonic AND k.mode = ta.key_mode
       WHERE ta.status = 'done' AND ta.track_id <> ALL($2::uuid[])
       ORDER BY d2, ta.track_id LIMIT $4 OFFSET 0) n
     JOIN track t ON t.id = n.track_id WHERE ${visibleItemSql("tracks", "t", "$1")}
     ORDER BY n.d2, n.track_id LIMIT $3`,
    [viewerId, seeds, limit, cap],
  );
  let { rows } = await nearest(candidates);
  if (rows.length < limit) ({ rows } = await nearest(null));
  return rows.map((r) => ({ trackId: r.track_id, distance: r.distance }));
}
