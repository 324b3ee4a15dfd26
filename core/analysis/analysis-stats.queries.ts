import type pg from "pg";
import { visibleItemSql, visibleLibrariesSql, visibleLibraryIdsSql, visiblePlaylistsSql } from "../catalog/catalog-read.ts";
import { emptyStats, mergeStats, POINT_SAMPLE, STAT_FEATURES, TEMPO_BIN_BPM, type CellStats } from "./analysis-stats.ts";

// The SQL behind feature aggregates (issue 20). One statement computes the mergeable stats of a set
// of tracks (CellStats); big scopes read them precomputed per cell (migrations/0029), small ones
// (an album, an artist, a playlist) compute them on the spot from the scope's visible tracks.

const FEATURES = Object.entries(STAT_FEATURES);

/** Per feature, in one pass: count, sum, sum of squares (float8: the columns are real) and extremes. */
const sumsSql = FEATURES.map(([f, c]) =>
  `count(${c}) AS ${f}_n, sum(${c}::float8) AS ${f}_sum, sum(${c}::float8 ^ 2) AS ${f}_sumsq, min(${c}) AS ${f}_min, max(${c}) AS ${f}_max`).join(", ");
/** In a second pass, the track holding each extreme (ties: the lowest id, as text orders uuids). */
const extremeTracksSql = FEATURES.map(([f, c]) =>
  `min(a.track_id::text) FILTER (WHERE a.${c} = g.${f}_min) AS ${f}_min_track, min(a.track_id::text) FILTER (WHERE a.${c} = g.${f}_max) AS ${f}_max_track`).join(", ");
const featureJson = (f: string) =>
  `'${f}', json_build_object('n', g.${f}_n, 'sum', g.${f}_sum, 'sumsq', g.${f}_sumsq, 'min', g.${f}_min, 'max', g.${f}_max, 'minTrack', x.${f}_min_track, 'maxTrack', x.${f}_max_track)`;

/**
 * SQL: the CellStats (one json value) of the tracks `tracks` (an SQL query yielding `id`), counting
 * only finished analyses (status 'done'). Points are a bottom-k sample by a hash of the track id, so
 * the samples of two cells merge into the sample of their union. A handful of passes over the
 * scope's rows, which for a big cell only the first read after a change pays.
 */
export function cellStatsSql(tracks: string): string {
  return `WITH t AS MATERIALIZED (${tracks}),
    a AS MATERIALIZED (
      SELECT ta.track_id, ta.tempo_bpm, ta.loudness_lufs, ta.energy, ta.danceability, ta.dynamic_complexity, ta.key_tonic, ta.key_mode, al.year
      FROM t JOIN track_analysis ta ON ta.track_id = t.id AND ta.status = 'done'
        JOIN track tr ON tr.id = ta.track_id LEFT JOIN album al ON al.id = tr.album_id),
    g AS MATERIALIZED (SELECT count(*) AS analysed, ${sumsSql} FROM a),
    x AS (SELECT ${extremeTracksSql} FROM a, g)
    SELECT json_build_object(
      'tracks', (SELECT count(*) FROM t), 'analysed', g.analysed,
      'features', json_build_object(${FEATURES.map(([f]) => featureJson(f)).join(", ")}),
      'keys', (SELECT coalesce(json_object_agg(k, n), '{}') FROM (SELECT key_tonic || ' ' || key_mode AS k, count(*) AS n FROM a
               WHERE key_tonic IS NOT NULL AND key_mode IS NOT NULL GROUP BY 1) y),
      'tempoBins', (SELECT coalesce(json_object_agg(b, n), '{}') FROM (SELECT (floor(tempo_bpm / ${TEMPO_BIN_BPM}) * ${TEMPO_BIN_BPM})::int AS b,
               count(*) AS n FROM a WHERE tempo_bpm IS NOT NULL GROUP BY 1) y),
      'years', (SELECT coalesce(json_object_agg(year, json_build_array(n, s)), '{}') FROM (SELECT year, count(*) AS n, sum(loudness_lufs::float8) AS s
               FROM a WHERE year IS NOT NULL AND loudness_lufs IS NOT NULL GROUP BY 1) y),
      'points', (SELECT coalesce(json_agg(json_build_array(r, track_id, energy, danceability) ORDER BY r, track_id), '[]') FROM (
               SELECT hashtext(track_id::text) AS r, track_id, energy, danceability FROM a
               WHERE energy IS NOT NULL AND danceability IS NOT NULL ORDER BY 1, 2 LIMIT ${POINT_SAMPLE}) y)) AS stats
    FROM g, x`;
}

/**
 * The CellStats of a small scope's tracks (a query yielding `id`, with its parameters). The ids are
 * gathered into an array first (an InitPlan), which the planner takes for a short list: joined as a
 * subquery of unknown size, it hashed all of track_analysis (~20 ms at 100,000 rows) for an album of ten.
 * With a `name` the statement is prepared once per connection: planning it took longer (~1.7 ms) than
 * running it for an album (~0.6 ms), and the array keeps the generic plan as good as a custom one.
 */
export async function statsOf(pool: pg.Pool, tracks: string, params: unknown[], name?: string): Promise<CellStats> {
  const text = cellStatsSql(`SELECT unnest(ARRAY(${tracks})) AS id`);
  const { rows } = await pool.query<{ stats: CellStats }>(name ? { name, text, values: params } : { text, values: params });
  return rows[0]!.stats;
}

export type Scope = "collection" | "library" | "album" | "artist" | "playlist";

/**
 * SQL: the name of a scope the viewer ($1) may see ($2 its id); no row when it is missing or hidden. A
 * playlist's row also has its owner and rules: a smart playlist's tracks are its rules' matches.
 */
export const SCOPE_NAME_SQL: Record<Exclude<Scope, "collection">, string> = {
  library: `SELECT l.name FROM library l WHERE l.id = $2 AND ${visibleLibrariesSql("l", "$1")}`,
  album: `SELECT a.title AS name FROM album a WHERE a.id = $2 AND ${visibleItemSql("albums", "a", "$1")}`,
  artist: `SELECT ar.name FROM artist ar WHERE ar.id = $2 AND ${visibleItemSql("artists", "ar", "$1")}`,
  playlist: `SELECT p.name, p.owner_id, p.rules FROM playlist p WHERE p.id = $2 AND ${visiblePlaylistsSql("p", "$1")}`,
};

/** SQL: the visible tracks ($1 the viewer) of the small scopes ($2 the scope's id), as `id`. */
export const SCOPE_TRACKS_SQL: Record<"album" | "artist" | "playlist", string> = {
  album: `SELECT t.id FROM track t WHERE t.album_id = $2 AND ${visibleItemSql("tracks", "t", "$1")}`,
  // Credited on the track, or on its album (as the artist's page lists albums).
  artist: `SELECT t.id FROM (SELECT c.track_id AS id FROM artist_credit c WHERE c.artist_id = $2 AND c.track_id IS NOT NULL
             UNION SELECT tt.id FROM track tt JOIN album al ON al.id = tt.album_id WHERE al.album_artist_id = $2
             UNION SELECT tt.id FROM artist_credit c JOIN track tt ON tt.album_id = c.album_id WHERE c.artist_id = $2) t
           WHERE ${visibleItemSql("tracks", "t", "$1")}`,
  // A track listed twice counts once. (A smart playlist has no items: the service asks its rules.) The
  // visibility check finds the track's search document, so the track itself is not looked up.
  playlist: `SELECT DISTINCT t.id FROM (SELECT i.track_id AS id FROM playlist_item i WHERE i.playlist_id = $2) t
             WHERE ${visibleItemSql("tracks", "t", "$1")}`,
};

export interface CellRow {
  library_ids: string[];
  bucket: number;
  stats: CellStats | null;
  stale: boolean;
}

/** Whose cells: a viewer's whole collection, one library of theirs, or every cell on the server. */
export type CellScope = { viewerId: string | null; libraryId: string | null } | "server";

/**
 * The cells of the viewer's whole collection ($1 the viewer) or, with a library ($2), of that library,
 * or ($3) all of them, each with whether a change it has not seen is pending.
 */
export async function readCells(pool: pg.Pool, scope: CellScope): Promise<CellRow[]> {
  const [viewerId, libraryId] = scope === "server" ? [null, null] : [scope.viewerId, scope.libraryId];
  const { rows } = await pool.query<CellRow>({
    name: "analysis-cells", // prepared once per connection
    // Points only from the buckets that can hold the merged sample: every rank in bucket b is below
    // every rank in bucket b + 1, so once the lower buckets hold POINT_SAMPLE points the rest are not
    // read (they are kept in their own column, which stays unread: most of a cell's bytes).
    text: `SELECT c.library_ids, c.bucket, c.stats || jsonb_build_object('points', CASE WHEN coalesce(sum((c.stats->>'pointCount')::int) OVER (
               ORDER BY c.bucket RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) < ${POINT_SAMPLE}
               THEN coalesce(c.points, '[]') ELSE '[]' END) AS stats,
             (c.computed_in IS NULL OR EXISTS (
               SELECT 1 FROM analysis_cell_change x WHERE x.library_ids = c.library_ids AND x.bucket = c.bucket
                 AND NOT pg_visible_in_snapshot(x.xid, c.computed_in))) AS stale
           FROM analysis_cell c
           WHERE $3 OR CASE WHEN $2::uuid IS NULL THEN c.library_ids && ${visibleLibraryIdsSql("$1")} ELSE c.library_ids @> ARRAY[$2::uuid] END`,
    values: [viewerId, libraryId, scope === "server"],
  });
  return rows;
}

/**
 * Recomputes one cell in one statement (its stats and the snapshot they saw), then forgets the
 * changes that snapshot saw. A recompute never replaces a newer one (another reader's, in parallel).
 * The stats go in `stats` with their number of points, the points in their own column (see readCells).
 */
export async function recomputeCell(pool: pg.Pool, { library_ids: libraryIds, bucket }: CellRow): Promise<CellStats> {
  const { rows } = await pool.query<{ stats: CellStats }>({
    name: "analysis-recompute-cell",
    text: `WITH s AS (${cellStatsSql("SELECT d.id FROM search_document d WHERE d.kind = 'track' AND d.library_ids = $1::uuid[] AND analysis_bucket(d.id) = $2")}),
     done AS (UPDATE analysis_cell c SET stats = (s.stats::jsonb - 'points') || jsonb_build_object('pointCount', json_array_length(s.stats->'points')),
                points = s.stats->'points', computed_in = pg_current_snapshot() FROM s
              WHERE c.library_ids = $1::uuid[] AND c.bucket = $2 AND (c.computed_in IS NULL OR pg_snapshot_xmin(c.computed_in) <= pg_snapshot_xmin(pg_current_snapshot()))
              RETURNING c.computed_in)
     SELECT s.stats FROM s`,
    values: [libraryIds, bucket],
  });
  await pool.query({
    name: "analysis-forget-changes",
    text: `DELETE FROM analysis_cell_change x USING analysis_cell c
     WHERE c.library_ids = $1::uuid[] AND c.bucket = $2 AND x.library_ids = c.library_ids AND x.bucket = c.bucket
       AND x.xid < pg_snapshot_xmin(c.computed_in)`,
    values: [libraryIds, bucket],
  });
  return rows[0]!.stats;
}

/**
 * The merged stats of a scope's cells, current: a stale cell is recomputed first, in parallel.
 */
export async function statsOfCells(pool: pg.Pool, scope: CellScope): Promise<CellStats> {
  let cells = await readCells(pool, scope);
  const stale = cells.filter((cell) => cell.stale || !cell.stats);
  if (stale.length) {
    await Promise.all(stale.map((cell) => recomputeCell(pool, cell)));
    // Read again: which cells' points the sample needs depends on their fresh counts. A cell changed
    // meanwhile (stale again) is taken as just computed: the change is as new as this request.
    cells = await readCells(pool, scope);
  }
  return mergeStats(cells.map((cell) => cell.stats ?? emptyStats()));
}

export interface TrackLabel {
  id: string;
  title: string;
  artistName: string | null;
  albumId: string | null;
  albumTitle: string | null;
}

/** Titles, artists and albums of tracks (superlatives and points), by id. */
export async function trackLabels(pool: pg.Pool, ids: string[]): Promise<Map<string, TrackLabel>> {
  if (!ids.length) return new Map();
  // Names looked up row by row (scalar subqueries): joined, the planner hashed all albums and artists.
  const { rows } = await pool.query<TrackLabel>({
    name: "analysis-track-labels",
    text: `SELECT t.id, t.title, (SELECT ar.name FROM artist ar WHERE ar.id = t.artist_id) AS "artistName", t.album_id AS "albumId",
                  (SELECT al.title FROM album al WHERE al.id = t.album_id) AS "albumTitle"
           FROM track t WHERE t.id = ANY($1::uuid[])`,
    values: [ids],
  });
  return new Map(rows.map((row) => [row.id, row]));
}

/** One track's features, if the viewer ($1) may see the track ($2): undefined when missing or hidden. */
export async function trackFeatureRow(pool: pg.Pool, viewerId: string | null, trackId: string) {
  const { rows } = await pool.query(
    `SELECT t.id, ta.status, ta.error_message, ta.analyser_version, ta.analysed_at, ta.duration_seconds, ta.tempo_bpm, ta.tempo_confidence,
            ta.key_tonic, ta.key_mode, ta.key_strength, ta.loudness_lufs, ta.loudness_range_lu, ta.true_peak_dbtp, ta.energy,
            ta.danceability, ta.dynamic_complexity, ta.extra
     FROM track t LEFT JOIN track_analysis ta ON ta.track_id = t.id WHERE t.id = $2 AND ${visibleItemSql("tracks", "t", "$1")}`,
    [viewerId, trackId],
  );
  return rows[0] as Record<string, unknown> | undefined;
}
