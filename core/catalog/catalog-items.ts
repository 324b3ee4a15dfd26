import type pg from "pg";
import { visibleLibrariesSql } from "../library/access.ts";
import { visibleItemSql, visibleLibraryIdsSql } from "./user-data.service.ts";

// Shapes of artists, albums and tracks as the REST API returns them, loaded for a page of ids.

const coverUrl = (albumId: string | null, hash: string | null) => (albumId && hash ? `/api/v1/albums/${albumId}/cover` : null);
const iso = (value: string | Date | null) => (value ? new Date(value).toISOString() : null);

function inOrder<T extends { id: string }>(ids: string[], rows: T[]): T[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

const USER_DATA = (column: string, alias: string) => `
  EXISTS (SELECT 1 FROM favorite f WHERE f.user_id = $1 AND f.${column} = ${alias}.id) AS favorite,
  (SELECT r.rating FROM rating r WHERE r.user_id = $1 AND r.${column} = ${alias}.id) AS rating`;

export async function loadTracks(pool: pg.Pool, ids: string[], viewerId: string | null) {
  if (!ids.length) return [];
  const { rows } = await pool.query({
    name: "catalog-tracks", // prepared once per connection: planning cost more than running
    text: `SELECT t.id, t.title, t.track_number, t.disc_number, t.mbid, t.created_at, a.id AS album_id, a.title AS album_title,
       a.year, a.cover_hash, best.duration_ms, best.id AS upload_id, ps.play_count, ps.last_played_at, ${USER_DATA("track_id", "t")},
       (SELECT json_agg(json_build_object('id', c.artist_id, 'name', c.credited_name, 'joinPhrase', c.join_phrase) ORDER BY c.position)
          FROM artist_credit c WHERE c.track_id = t.id) AS artists,
       (SELECT coalesce(array_agg(g.name ORDER BY g.name), '{}') FROM track_genre tg JOIN genre g ON g.id = tg.genre_id
          WHERE tg.track_id = t.id) AS genres
     FROM track t JOIN album a ON a.id = t.album_id
     LEFT JOIN LATERAL (SELECT u.id, u.duration_ms FROM upload u JOIN library l ON l.id = u.library_id
       WHERE u.track_id = t.id AND u.status = 'finished' AND ${visibleLibrariesSql("l", "$1")}
       ORDER BY u.lossless DESC NULLS LAST, u.bitrate DESC NULLS LAST LIMIT 1) best ON true
     LEFT JOIN play_stat ps ON ps.user_id = $1 AND ps.track_id = t.id
     WHERE t.id = ANY($2::uuid[])`,
    values: [viewerId, ids],
  });
  return inOrder(ids, rows).map((r) => ({
    id: r.id as string,
    title: r.title as string,
    artists: (r.artists ?? []) as { id: string; name: string; joinPhrase: string }[],
    artistCredit: ((r.artists ?? []) as { name: string; joinPhrase: string }[]).map((c) => c.name + c.joinPhrase).join(""),
    album: { id: r.album_id as string, title: r.album_title as string },
    trackNumber: r.track_number as number | null,
    discNumber: r.disc_number as number | null,
    year: r.year as number | null,
    durationMs: r.duration_ms as number | null,
    genres: r.genres as string[],
    musicBrainzId: r.mbid as string | null,
    coverUrl: coverUrl(r.album_id, r.cover_hash),
    streamUrl: `/api/v1/tracks/${r.id}/stream`,
    favorite: r.favorite as boolean,
    rating: r.rating as number | null,
    playCount: (r.play_count as number | null) ?? 0,
    lastPlayedAt: iso(r.last_played_at),
    createdAt: iso(r.created_at),
  }));
}

export async function loadAlbums(pool: pg.Pool, ids: string[], viewerId: string | null) {
  if (!ids.length) return [];
  const { rows } = await pool.query({
    name: "catalog-albums", // prepared once per connection: planning cost more than running
    text: `SELECT a.id, a.title, a.year, a.release_date, a.compilation, a.mbid, a.cover_hash, a.created_at,
       aa.id AS artist_id, aa.name AS artist_name, ${USER_DATA("album_id", "a")},
       (SELECT string_agg(c.credited_name || c.join_phrase, '' ORDER BY c.position) FROM artist_credit c WHERE c.album_id = a.id) AS credit,
       stats.track_count, stats.duration_ms, stats.play_count
     FROM album a JOIN artist aa ON aa.id = a.album_artist_id
     LEFT JOIN LATERAL (SELECT count(*)::int AS track_count, sum(v.duration_ms)::bigint AS duration_ms,
         coalesce(sum((SELECT ps.play_count FROM play_stat ps WHERE ps.user_id = $1 AND ps.track_id = t.id)), 0)::int AS play_count
       -- A track counts when it has a visible finished upload, which also gives its duration: one probe a track.
       FROM track t JOIN LATERAL (SELECT u.duration_ms FROM upload u WHERE u.track_id = t.id AND u.status = 'finished'
           AND u.library_id = ANY(${visibleLibraryIdsSql("$1")}) LIMIT 1) v ON true
       WHERE t.album_id = a.id) stats ON true
     WHERE a.id = ANY($2::uuid[])`,
    values: [viewerId, ids],
  });
  return inOrder(ids, rows).map((r) => ({
    id: r.id as string,
    title: r.title as string,
    artist: { id: r.artist_id as string, name: r.artist_name as string },
    artistCredit: (r.credit as string | null) ?? (r.artist_name as string),
    year: r.year as number | null,
    releaseDate: r.release_date as string | null,
    compilation: r.compilation as boolean,
    musicBrainzId: r.mbid as string | null,
    trackCount: r.track_count as number,
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    coverUrl: coverUrl(r.id, r.cover_hash),
    favorite: r.favorite as boolean,
    rating: r.rating as number | null,
    playCount: r.play_count as number,
    createdAt: iso(r.created_at),
  }));
}

export async function loadArtists(pool: pg.Pool, ids: string[], viewerId: string | null) {
  if (!ids.length) return [];
  const { rows } = await pool.query({
    name: "catalog-artists", // prepared once per connection: planning cost more than running
    text: `SELECT ar.id, ar.name, ar.mbid, ar.created_at, ${USER_DATA("artist_id", "ar")},
       (SELECT count(*)::int FROM album a WHERE a.album_artist_id = ar.id AND ${visibleItemSql("albums", "a", "$1")}) AS album_count,
       (SELECT a.id FROM album a WHERE a.album_artist_id = ar.id AND a.cover_hash IS NOT NULL
          AND ${visibleItemSql("albums", "a", "$1")} ORDER BY a.year NULLS LAST LIMIT 1) AS cover_album
     FROM artist ar WHERE ar.id = ANY($2::uuid[])`,
    values: [viewerId, ids],
  });
  return inOrder(ids, rows).map((r) => ({
    id: r.id as string,
    name: r.name as string,
    musicBrainzId: r.mbid as string | null,
    albumCount: r.album_count as number,
    coverUrl: r.cover_album ? `/api/v1/albums/${r.cover_album}/cover` : null,
    favorite: r.favorite as boolean,
    rating: r.rating as number | null,
    createdAt: iso(r.created_at),
  }));
}

/** Genres of visible tracks, with how many tracks and albums carry each. */
export async function loadGenres(pool: pg.Pool, viewerId: string | null, sort: "name" | "tracks") {
  const { rows } = await pool.query<{ name: string; track_count: number; album_count: number }>(
    `SELECT g.name, count(DISTINCT t.id)::int AS track_count, count(DISTINCT t.album_id)::int AS album_count
     FROM genre g JOIN track_genre tg ON tg.genre_id = g.id JOIN track t ON t.id = tg.track_id
     WHERE ${visibleItemSql("tracks", "t", "$1")} GROUP BY g.id, g.name
     ORDER BY ${sort === "tracks" ? "track_count DESC, g.normalized_name" : "g.normalized_name"}`,
    [viewerId],
  );
  return rows.map((r) => ({ name: r.name, trackCount: r.track_count, albumCount: r.album_count }));
}
