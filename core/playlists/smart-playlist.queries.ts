import { Params } from "../catalog/browse.queries.ts";
import { bestCopySql, visibleItemSql } from "../catalog/catalog-read.ts";
import type { Queryable } from "../jobs/enqueue.ts";
import { normalizeName } from "../library/normalize.ts";
import { trackInfoSql, type PlaylistItemRow } from "./playlist-items.ts";
import type { SmartRules, SmartSort } from "./smart-rules.ts";

// A smart playlist's tracks, evaluated on every read: the tracks the owner may see now (the catalog's
// visibility rule) that meet every rule, in the rules' order, at most `limit` of them. A track analysed
// since the last read is simply there.

/** Feature columns are `real`: the bounds are compared as `real` too, so a stored 0.7 meets "at least 0.7". */
const FEATURE_RANGES = [
  ["tempo", "ta.tempo_bpm"],
  ["energy", "ta.energy"],
  ["danceability", "ta.danceability"],
  ["loudness", "ta.loudness_lufs"],
] as const;

const SORT_COLUMN: Record<Exclude<SmartSort, "random">, string> = {
  tempo: "ta.tempo_bpm",
  energy: "ta.energy",
  danceability: "ta.danceability",
  loudness: "ta.loudness_lufs",
  year: "al.year",
  title: "t.normalized_title",
  added: "t.created_at",
};

function conditions(rules: SmartRules, p: Params): string[] {
  const where = [visibleItemSql("tracks", "t", "$1")];
  const range = (column: string, r: { min?: number; max?: number } | undefined, type: string) => {
    if (r?.min !== undefined) where.push(`${column} >= ${p.add(r.min)}::${type}`);
    if (r?.max !== undefined) where.push(`${column} <= ${p.add(r.max)}::${type}`);
  };
  for (const [rule, column] of FEATURE_RANGES) range(column, rules[rule], "real");
  range("al.year", rules.year, "int");
  if (rules.keys) where.push(`ta.key_tonic = ANY(${p.add(rules.keys)}::text[])`);
  if (rules.mode) where.push(`ta.key_mode = ${p.add(rules.mode)}`);
  if (rules.genres) {
    where.push(`EXISTS (SELECT 1 FROM track_genre tg JOIN genre g ON g.id = tg.genre_id
                WHERE tg.track_id = t.id AND g.normalized_name = ANY(${p.add(rules.genres.map(normalizeName))}::text[]))`);
  }
  if (rules.minRating !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM rating r WHERE r.user_id = $1 AND r.track_id = t.id AND r.rating >= ${p.add(rules.minRating)})`);
  }
  return where;
}

/**
 * Random but stable: a hash of the seed (the playlist's id) and the track's, so reads agree with each
 * other and a newly matching track slots in without reshuffling the rest.
 */
function orderBy(rules: SmartRules, seed: string, p: Params): string {
  const { by, order } = rules.sort;
  const first = by === "random" ? `md5(${p.add(seed)} || t.id::text)` : SORT_COLUMN[by];
  return `${first} ${order === "desc" ? "DESC" : "ASC"} NULLS LAST, t.id`;
}

/** SQL and values of the matching tracks (`id`, `position` from 0), for owner $1. */
function matchingSql(ownerId: string, rules: SmartRules, seed: string): { sql: string; p: Params } {
  const p = new Params(ownerId);
  const where = conditions(rules, p);
  const order = orderBy(rules, seed, p);
  const sql = `SELECT t.id, (row_number() OVER (ORDER BY ${order}) - 1)::int AS position, t.created_at
    FROM track t JOIN album al ON al.id = t.album_id
    LEFT JOIN track_analysis ta ON ta.track_id = t.id AND ta.status = 'done'
    WHERE ${where.join(" AND ")} ORDER BY ${order} LIMIT ${p.add(rules.limit)}`;
  return { sql, p };
}

/**
 * The playlist's current tracks (at most its limit), shaped as playlist items: an item's id is its
 * track's (a smart playlist keeps no items), `added_at` when the track came to the catalog.
 */
export async function smartItems(db: Queryable, ownerId: string, rules: SmartRules, seed: string): Promise<PlaylistItemRow[]> {
  const { sql, p } = matchingSql(ownerId, rules, seed);
  const { rows } = await db.query(
    `WITH m AS (${sql})
     SELECT v.track_id AS id, m.position, m.created_at AS added_at, v.track_id, v.album_id, v.title, v.artist, v.album, v.duration_ms, v.mbid
     FROM m JOIN LATERAL (${trackInfoSql("m.id", "$1")}) v ON true
     ORDER BY m.position`,
    p.values,
  );
  return rows as PlaylistItemRow[];
}

export interface SmartTotals {
  item_count: number;
  duration_ms: string;
}

/** Count and length of items (as PlaylistRow has them). */
export function totalsOf(items: PlaylistItemRow[]): SmartTotals {
  return { item_count: items.length, duration_ms: String(items.reduce((sum, i) => sum + (i.duration_ms ?? 0), 0)) };
}

/** How many tracks the playlist holds now, and their length (the copies the owner would hear), without loading them. */
export async function smartTotals(db: Queryable, ownerId: string, rules: SmartRules, seed: string): Promise<SmartTotals> {
  const { sql, p } = matchingSql(ownerId, rules, seed);
  const { rows } = await db.query(
    `WITH m AS (${sql})
     SELECT count(*)::int AS item_count, coalesce(sum(b.duration_ms), 0)::bigint AS duration_ms
     FROM m JOIN LATERAL (${bestCopySql("m.id", { viewer: "$1" }, "u.duration_ms")}) b ON true`,
    p.values,
  );
  return rows[0] as SmartTotals;
}
