import { randomUUID } from "node:crypto";
import type pg from "pg";
import { normalizeName } from "../library/normalize.ts";
import { albumOrderSql } from "../library/track-position.ts";
import { finishedCopySql, visibleItemSql, visibleLibrariesSql } from "./catalog-read.ts";
import type { ItemKind } from "./user-data.service.ts";

export const SORTS = {
  artists: ["name", "date_added", "play_count", "random"],
  albums: ["name", "date_added", "year", "play_count", "random", "artist", "last_played", "rating"],
  tracks: ["name", "date_added", "year", "play_count", "random"],
} as const;

export interface BrowseFilter {
  library?: string;
  genre?: string;
  yearFrom?: number;
  yearTo?: number;
  artist?: string;
  favorites?: boolean;
  /** Only what the viewer played / rated (Subsonic's "recent" and "highest" lists). */
  played?: boolean;
  rated?: boolean;
}

export interface BrowseQuery extends BrowseFilter {
  sort: string;
  order?: "asc" | "desc";
  /** Keeps a random order stable across pages. */
  seed?: string;
  limit: number;
  offset: number;
}

/** Builds parameterised SQL: `$1` is always the viewer's id (null for anonymous). */
export class Params {
  readonly values: unknown[];
  constructor(viewerId: string | null) {
    this.values = [viewerId];
  }
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

const TABLE: Record<ItemKind, { table: string; alias: string; name: string; trackIds: (alias: string) => string }> = {
  tracks: { table: "track", alias: "t", name: "t.normalized_title", trackIds: (a) => `SELECT ${a}.id` },
  albums: { table: "album", alias: "a", name: "a.normalized_title", trackIds: (a) => `SELECT id FROM track WHERE album_id = ${a}.id` },
  artists: {
    table: "artist",
    alias: "ar",
    name: "ar.normalized_name",
    trackIds: (a) => `SELECT c.track_id FROM artist_credit c WHERE c.artist_id = ${a}.id AND c.track_id IS NOT NULL
                      UNION SELECT t.id FROM track t JOIN album al ON al.id = t.album_id WHERE al.album_artist_id = ${a}.id`,
  },
};

function conditions(kind: ItemKind, filter: BrowseFilter, p: Params): string[] {
  const { alias, trackIds } = TABLE[kind];
  const where = [visibleItemSql(kind, alias, "$1")];
  if (filter.library) {
    // The library itself must be one the viewer sees (checked once, uncorrelated): a track also in a
    // public library would otherwise tell who asks by a private library's id that it holds the track.
    const library = p.add(filter.library);
    where.push(`EXISTS (SELECT 1 FROM library l WHERE l.id = ${library} AND ${visibleLibrariesSql("l", "$1")})`);
    where.push(`EXISTS (SELECT 1 FROM upload u WHERE ${finishedCopySql("u")} AND u.library_id = ${library}
                AND u.track_id IN (${trackIds(alias)}))`);
  }
  if (filter.genre) {
    where.push(`EXISTS (SELECT 1 FROM track_genre tg JOIN genre g ON g.id = tg.genre_id
                WHERE g.normalized_name = ${p.add(normalizeName(filter.genre))} AND tg.track_id IN (${trackIds(alias)}))`);
  }
  const yearColumn = kind === "albums" ? "a.year" : kind === "tracks" ? "(SELECT year FROM album WHERE id = t.album_id)" : null;
  if (yearColumn && filter.yearFrom !== undefined) where.push(`${yearColumn} >= ${p.add(filter.yearFrom)}`);
  if (yearColumn && filter.yearTo !== undefined) where.push(`${yearColumn} <= ${p.add(filter.yearTo)}`);
  if (filter.artist && kind !== "artists") {
    const artist = p.add(filter.artist);
    where.push(
      kind === "albums"
        ? `(a.album_artist_id = ${artist} OR EXISTS (SELECT 1 FROM artist_credit c WHERE c.album_id = a.id AND c.artist_id = ${artist}))`
        : `EXISTS (SELECT 1 FROM artist_credit c WHERE c.track_id = t.id AND c.artist_id = ${artist})`,
    );
  }
  if (filter.played) {
    where.push(`EXISTS (SELECT 1 FROM play_stat ps WHERE ps.user_id = $1 AND ps.track_id IN (${trackIds(alias)}))`);
  }
  if (filter.rated) {
    where.push(`EXISTS (SELECT 1 FROM rating r WHERE r.user_id = $1 AND r.${TABLE[kind].table}_id = ${alias}.id)`);
  }
  if (filter.favorites) {
    where.push(`EXISTS (SELECT 1 FROM favorite f WHERE f.user_id = $1 AND f.${TABLE[kind].table}_id = ${alias}.id)`);
  }
  return where;
}

/** Tracks that tie on the chosen sort: album by album, each in its play order. */
const ALBUM_TRACKS = `t.album_id, ${albumOrderSql("t")}`;

function orderBy(kind: ItemKind, query: BrowseQuery, p: Params): string {
  const { alias, name, trackIds } = TABLE[kind];
  const direction = (fallback: "asc" | "desc") => ((query.order ?? fallback) === "asc" ? "ASC" : "DESC");
  switch (query.sort) {
    case "date_added":
      // Tracks imported together share a time: an album's stay together, in their order.
      if (kind === "tracks") return `t.created_at ${direction("desc")}, ${ALBUM_TRACKS}`;
      // The tie-break runs the same way: albums read album_created_at_id_index in order (migration 0009).
      return `${alias}.created_at ${direction("desc")}, ${alias}.id ${direction("desc")}`;
    case "year":
      if (kind === "tracks") return `(SELECT year FROM album WHERE id = t.album_id) ${direction("desc")} NULLS LAST, ${ALBUM_TRACKS}`;
      return `a.year ${direction("desc")} NULLS LAST, ${name}, ${alias}.id`;
    case "play_count":
      return `(SELECT coalesce(sum(ps.play_count), 0) FROM play_stat ps WHERE ps.user_id = $1 AND ps.track_id IN (${trackIds(alias)}))
              ${direction("desc")}, ${name}, ${alias}.id`;
    case "artist":
      return `(SELECT normalized_name FROM artist WHERE id = a.album_artist_id), ${name}, ${alias}.id`;
    case "last_played":
      return `(SELECT max(ps.last_played_at) FROM play_stat ps WHERE ps.user_id = $1 AND ps.track_id IN (${trackIds(alias)}))
              ${direction("desc")} NULLS LAST, ${alias}.id`;
    case "rating":
      return `(SELECT r.rating FROM rating r WHERE r.user_id = $1 AND r.${TABLE[kind].table}_id = ${alias}.id)
              ${direction("desc")} NULLS LAST, ${name}, ${alias}.id`;
    case "random":
      return `md5(${alias}.id::text || ${p.add(query.seed ?? "")}), ${alias}.id`;
    default:
      return `${name} ${direction("asc")}, ${alias}.id`;
  }
}

function browseSql(kind: ItemKind, viewerId: string | null, query: BrowseQuery) {
  const p = new Params(viewerId);
  const { table, alias } = TABLE[kind];
  const where = conditions(kind, query, p).join(" AND ");
  const whereValues = [...p.values]; // the ORDER BY may add a parameter the count does not use
  const order = orderBy(kind, query, p);
  return {
    count: { text: `SELECT count(*)::int AS n FROM ${table} ${alias} WHERE ${where}`, values: whereValues },
    page: { text: `SELECT ${alias}.id FROM ${table} ${alias} WHERE ${where} ORDER BY ${order} LIMIT ${query.limit} OFFSET ${query.offset}`, values: p.values },
  };
}

/** A page of visible artists, albums or tracks (ids only, in order), without the total (Subsonic needs none). */
export async function browsePageIds(pool: pg.Pool, kind: ItemKind, viewerId: string | null, query: BrowseQuery): Promise<string[]> {
  const { page } = browseSql(kind, viewerId, query);
  return (await pool.query<{ id: string }>(page)).rows.map((r) => r.id);
}

/** A page of visible artists, albums or tracks (ids only, in order) and the total. */
export async function browseIds(
  pool: pg.Pool,
  kind: ItemKind,
  viewerId: string | null,
  query: BrowseQuery,
): Promise<{ ids: string[]; total: number }> {
  const { count, page } = browseSql(kind, viewerId, query);
  const [total, ids] = await Promise.all([pool.query<{ n: number }>(count), pool.query<{ id: string }>(page)]);
  return { ids: ids.rows.map((r) => r.id), total: total.rows[0]!.n };
}

/**
 * `limit` visible items at random, without ordering them all (a seeded random order sorts every
 * visible row: 10,000 md5 hashes for an album list). Ids are random (v4 UUIDs), so the visible rows
 * after a random id in the primary key, wrapping around to the first, are a random sample; shuffled,
 * as the index hands them over in id order. For lists that are not paged (Subsonic's random lists).
 */
export async function browseSampleIds(pool: pg.Pool, kind: ItemKind, viewerId: string | null, filter: BrowseFilter, limit: number): Promise<string[]> {
  const p = new Params(viewerId);
  const { table, alias } = TABLE[kind];
  const where = conditions(kind, filter, p).join(" AND ");
  const start = `${p.add(randomUUID())}::uuid`;
  const from = (range: string) =>
    `(SELECT ${alias}.id FROM ${table} ${alias} WHERE ${where} AND ${alias}.id ${range} ${start} ORDER BY ${alias}.id LIMIT ${limit})`;
  const { rows } = await pool.query<{ id: string }>(`SELECT id FROM (${from(">=")} UNION ALL ${from("<")}) picked LIMIT ${limit}`, p.values);
  const ids = rows.map((r) => r.id);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  return ids;
}
