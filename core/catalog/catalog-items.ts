import type pg from "pg";
import { effectiveReplayGain, type MeasuredLoudness, type ReplayGain } from "../analysis/replay-gain.ts";
import { albumOrderSql, discNumberSql } from "../library/track-position.ts";
import { bestCopySql, visibleItemSql, visibleLibraryIdsSql } from "./catalog-read.ts";

// Artists, albums and tracks as the REST API returns them, loaded for a page of ids in one prepared
// statement each; Subsonic asks for a little more in the same statement (`files`, `details`).

/** The album whose cover stands for an item, or null without art (the HTTP layer makes it a URL). */
const coverAlbum = (albumId: string | null, hash: string | null) => (albumId && hash ? albumId : null);
const iso = (value: string | Date | null) => (value ? new Date(value).toISOString() : null);

export interface Credit {
  id: string;
  name: string;
  joinPhrase: string;
}

/** "Alice feat. Bob": the names as credited, each followed by its join phrase. */
const creditText = (credits: Credit[]) => credits.map((c) => c.name + c.joinPhrase).join("");

function inOrder<T extends { id: string }>(ids: string[], rows: T[]): T[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/**
 * Prepared statements are planned once per connection and then reused, as long as PostgreSQL thinks
 * the reusable plan is no worse: for `= ANY($2)` it guesses ten ids, so a statement run with one id
 * would be planned again on every call (~0.5 ms, more than running it). One id gets its own statement.
 */
function byIds(alias: string, ids: string[]): { where: string; suffix: string; value: string | string[] } {
  return ids.length === 1
    ? { where: `${alias}.id = $2::uuid`, suffix: "-one", value: ids[0]! }
    : { where: `${alias}.id = ANY($2::uuid[])`, suffix: "", value: ids };
}

/** The viewer's star (its date) and 1-5 rating of each row: the favourite tables' unique indexes make each one row. */
const USER_DATA = (column: string, alias: string) => `
  (SELECT f.created_at FROM favorite f WHERE f.user_id = $1 AND f.${column} = ${alias}.id) AS starred_at,
  (SELECT r.rating FROM rating r WHERE r.user_id = $1 AND r.${column} = ${alias}.id) AS rating`;

const CREDITS = (column: string, alias: string) => `(SELECT json_agg(json_build_object('id', c.artist_id, 'name', c.credited_name,
  'joinPhrase', c.join_phrase) ORDER BY c.position) FROM artist_credit c WHERE c.${column} = ${alias}.id)`;

/** What ReplayGain is computed from where the tags have none (effectiveReplayGain): the track's and its album's loudness. */
const MEASURED_LOUDNESS = `(SELECT json_build_object('loudnessLufs', ta.loudness_lufs, 'truePeakDbtp', ta.true_peak_dbtp)
    FROM track_analysis ta WHERE ta.track_id = t.id AND ta.status = 'done') AS track_loudness,
  (SELECT json_build_object('loudnessLufs', al.loudness_lufs, 'truePeakDbtp', al.true_peak_dbtp)
    FROM album_loudness al WHERE al.album_id = a.id) AS album_loudness`;

const replayGainOf = (r: Record<string, unknown>) =>
  effectiveReplayGain(r.replay_gain as ReplayGain | null, r.track_loudness as MeasuredLoudness | null, r.album_loudness as MeasuredLoudness | null);

/** The file a listener hears of a track: `stream` sends the same one (CatalogService.bestCopy). */
export interface TrackFile {
  uploadId: string;
  size: number;
  mimeType: string | null;
  suffix: string;
  bitrate: number | null;
  sampleRate: number | null;
  bitDepth: number | null;
  channels: number | null;
  /** The file's ReplayGain tags, each missing one computed from the measured loudness (replay-gain.ts). */
  replayGain: ReplayGain | null;
}

interface TrackOptions {
  /** Also each track's file details and album artist (what Subsonic's song element shows). */
  files?: boolean;
}

/**
 * Tracks by id, or (`albumId`) an album's visible tracks in disc and track order with the album's own
 * columns alongside (`album_*`: its credits, the viewer's star and rating, computed once): an album page
 * in one statement, its counts and genres summed from its tracks (loadAlbumTracks).
 */
function trackStatement(source: string[] | { albumId: string }, files: boolean, viewerId: string | null): pg.QueryConfig {
  const ids = Array.isArray(source) ? byIds("t", source) : undefined;
  const withArtist = files || !ids;
  return {
    name: `catalog-tracks${ids ? ids.suffix : "-of-album"}${files ? "-files" : ""}`,
    text: `SELECT t.id, t.title, t.track_number, ${discNumberSql("t")} AS disc_number, t.mbid, t.created_at, a.id AS album_id, a.title AS album_title,
       a.year, a.cover_hash, best.*, ps.play_count, ps.last_played_at, ${USER_DATA("track_id", "t")},
       ${CREDITS("track_id", "t")} AS artists,
       (SELECT coalesce(array_agg(g.name ORDER BY g.name), '{}') FROM track_genre tg JOIN genre g ON g.id = tg.genre_id
          WHERE tg.track_id = t.id) AS genres, ${MEASURED_LOUDNESS}
       ${withArtist ? ", aa.id AS album_artist_id, aa.name AS album_artist_name" : ""}
       ${ids ? "" : `, a.release_date AS album_release_date, a.compilation AS album_compilation, a.mbid AS album_mbid,
         a.created_at AS album_created_at, a.album_artists, a.album_starred_at, a.album_rating`}
     FROM track t JOIN ${ids ? "album a" : `(SELECT a.id, a.title, a.year, a.cover_hash, a.album_artist_id, a.release_date,
         a.compilation, a.mbid, a.created_at, ${CREDITS("album_id", "a")} AS album_artists,
         (SELECT f.created_at FROM favorite f WHERE f.user_id = $1 AND f.album_id = a.id) AS album_starred_at,
         (SELECT r.rating FROM rating r WHERE r.user_id = $1 AND r.album_id = a.id) AS album_rating
       FROM album a WHERE a.id = $2 OFFSET 0) a`} ON a.id = t.album_id -- OFFSET 0: the album's own values once, not once a track
     ${withArtist ? "JOIN artist aa ON aa.id = a.album_artist_id" : ""}
     ${ids ? "LEFT " : ""}JOIN LATERAL (${bestCopySql("t.id", { viewer: "$1" }, `u.id AS upload_id, u.duration_ms, u.replay_gain
         ${files ? ", u.size::float8 AS size, u.mime_type, u.original_name, u.bitrate, u.sample_rate, u.bit_depth, u.channels" : ""}`)}) best ON true
     LEFT JOIN play_stat ps ON ps.user_id = $1 AND ps.track_id = t.id
     ${ids
       ? `WHERE ${ids.where}`
       : `WHERE a.id = $2 -- visible: the join above found a copy the viewer sees
          ORDER BY ${albumOrderSql("t")}`}`,
    values: [viewerId, ids ? ids.value : (source as { albumId: string }).albumId],
  };
}

/** The file columns of a track row loaded with `files`; none when no visible copy is finished. */
function trackFile(r: Record<string, unknown>, replayGain: ReplayGain | null): TrackFile | undefined {
  if (!r.upload_id) return undefined;
  return {
    uploadId: r.upload_id as string,
    size: Number(r.size),
    mimeType: r.mime_type as string | null,
    suffix: /\.([A-Za-z0-9]{1,5})$/.exec(r.original_name as string)?.[1]?.toLowerCase() ?? "",
    bitrate: r.bitrate as number | null,
    sampleRate: r.sample_rate as number | null,
    bitDepth: r.bit_depth as number | null,
    channels: r.channels as number | null,
    replayGain,
  };
}

function toTrack(r: Record<string, unknown>, files: boolean) {
  const artists = (r.artists ?? []) as Credit[];
  const replayGain = replayGainOf(r);
  return {
    id: r.id as string,
    title: r.title as string,
    artists,
    artistCredit: creditText(artists),
    album: { id: r.album_id as string, title: r.album_title as string },
    trackNumber: r.track_number as number | null,
    discNumber: r.disc_number as number | null,
    year: r.year as number | null,
    durationMs: r.duration_ms as number | null,
    genres: r.genres as string[],
    musicBrainzId: r.mbid as string | null,
    coverAlbumId: coverAlbum(r.album_id as string, r.cover_hash as string | null),
    favorite: r.starred_at !== null,
    starredAt: iso(r.starred_at as Date | null),
    rating: r.rating as number | null,
    playCount: (r.play_count as number | null) ?? 0,
    lastPlayedAt: iso(r.last_played_at as Date | null),
    createdAt: iso(r.created_at as Date | null),
    replayGain,
    ...(files ? { file: trackFile(r, replayGain), albumArtist: { id: r.album_artist_id as string, name: r.album_artist_name as string } } : {}),
  };
}

/** Tracks by id, in that order (repeats kept, unknown ids left out). */
export async function loadTracks(pool: pg.Pool, ids: string[], viewerId: string | null, options: TrackOptions = {}) {
  if (!ids.length) return [];
  const { rows } = await pool.query(trackStatement(ids, options.files ?? false, viewerId));
  return inOrder(ids, rows).map((r) => toTrack(r, options.files ?? false));
}

/**
 * An album the viewer sees with its details and visible tracks, in one statement; undefined when it
 * is unknown or hidden. Its counts, duration, plays and genres are those of the tracks listed.
 */
export async function loadAlbumTracks(pool: pg.Pool, albumId: string, viewerId: string | null, options: TrackOptions = {}) {
  const { rows } = await pool.query(trackStatement({ albumId }, options.files ?? false, viewerId));
  const first = rows[0];
  if (!first) return undefined;
  const tracks = rows.map((r) => toTrack(r, options.files ?? false));
  const artists = (first.album_artists ?? []) as Credit[];
  const durations = tracks.flatMap((t) => (t.durationMs === null ? [] : [t.durationMs]));
  const album = toAlbum({
    id: first.album_id, title: first.album_title, year: first.year, release_date: first.album_release_date,
    compilation: first.album_compilation, mbid: first.album_mbid, cover_hash: first.cover_hash, created_at: first.album_created_at,
    artist_id: first.album_artist_id, artist_name: first.album_artist_name, starred_at: first.album_starred_at, rating: first.album_rating,
    credit: artists.length ? creditText(artists) : null,
    track_count: tracks.length,
    duration_ms: durations.length ? durations.reduce((sum, d) => sum + d, 0) : null,
    play_count: tracks.reduce((sum, t) => sum + t.playCount, 0),
    // ISO strings in UTC: their order is their time's.
    last_played_at: tracks.reduce<string | null>((last, t) => (t.lastPlayedAt && (!last || t.lastPlayedAt > last) ? t.lastPlayedAt : last), null),
    artists,
    genres: [...new Set(tracks.flatMap((t) => t.genres))].sort(),
  }, true);
  return { ...album, tracks };
}

interface AlbumOptions {
  /** Also each album's credited artists and the genres of its visible tracks. */
  details?: boolean;
}

/** Albums the viewer sees among `ids`, in that order (a hidden one is left out). */
export async function loadAlbums(pool: pg.Pool, ids: string[], viewerId: string | null, options: AlbumOptions = {}) {
  if (!ids.length) return [];
  const one = byIds("a", ids);
  const { rows } = await pool.query({
    name: `catalog-albums${one.suffix}${options.details ? "-details" : ""}`,
    text: `SELECT a.id, a.title, a.year, a.release_date, a.compilation, a.mbid, a.cover_hash, a.created_at,
       aa.id AS artist_id, aa.name AS artist_name, ${USER_DATA("album_id", "a")},
       (SELECT string_agg(c.credited_name || c.join_phrase, '' ORDER BY c.position) FROM artist_credit c WHERE c.album_id = a.id) AS credit,
       stats.track_count, stats.duration_ms, stats.play_count, stats.last_played_at
       ${options.details ? `, ${CREDITS("album_id", "a")} AS artists,
         (SELECT coalesce(array_agg(DISTINCT g.name ORDER BY g.name), '{}') FROM track_genre tg JOIN genre g ON g.id = tg.genre_id
            WHERE tg.track_id = ANY(stats.track_ids)) AS genres` : ""}
     FROM album a JOIN artist aa ON aa.id = a.album_artist_id
     JOIN LATERAL (SELECT count(*)::int AS track_count, sum(v.duration_ms)::bigint AS duration_ms,
         coalesce(sum(ps.play_count), 0)::int AS play_count, max(ps.last_played_at) AS last_played_at
         ${options.details ? ", array_agg(t.id) AS track_ids" : ""}
       -- A track counts when it has a visible finished upload; its best one gives its duration: one probe a track.
       FROM track t JOIN LATERAL (${bestCopySql("t.id", { libraries: visibleLibraryIdsSql("$1") }, "u.duration_ms")}) v ON true
         LEFT JOIN play_stat ps ON ps.user_id = $1 AND ps.track_id = t.id
       WHERE t.album_id = a.id) stats ON stats.track_count > 0
     WHERE ${one.where}`,
    values: [viewerId, one.value],
  });
  return inOrder(ids, rows).map((r) => toAlbum(r, options.details ?? false));
}

/** An album from its row (loadAlbums' column names); `details`: with its credits and genres. */
function toAlbum(r: Record<string, unknown>, details: boolean) {
  return {
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
    coverAlbumId: coverAlbum(r.id as string, r.cover_hash as string | null),
    favorite: r.starred_at !== null,
    starredAt: iso(r.starred_at as Date | null),
    rating: r.rating as number | null,
    playCount: r.play_count as number,
    lastPlayedAt: iso(r.last_played_at as Date | string | null),
    createdAt: iso(r.created_at as Date | null),
    ...(details ? { artists: (r.artists ?? []) as Credit[], genres: r.genres as string[] } : {}),
  };
}

export async function loadArtists(pool: pg.Pool, ids: string[], viewerId: string | null) {
  if (!ids.length) return [];
  const one = byIds("ar", ids);
  const { rows } = await pool.query({
    name: `catalog-artists${one.suffix}`,
    text: `SELECT ar.id, ar.name, ar.mbid, ar.created_at, ${USER_DATA("artist_id", "ar")},
       (SELECT count(*)::int FROM album a WHERE a.album_artist_id = ar.id AND ${visibleItemSql("albums", "a", "$1")}) AS album_count,
       (SELECT a.id FROM album a WHERE a.album_artist_id = ar.id AND a.cover_hash IS NOT NULL
          AND ${visibleItemSql("albums", "a", "$1")} ORDER BY a.year NULLS LAST LIMIT 1) AS cover_album
     FROM artist ar WHERE ${one.where}`,
    values: [viewerId, one.value],
  });
  return inOrder(ids, rows).map((r) => ({
    id: r.id as string,
    name: r.name as string,
    musicBrainzId: r.mbid as string | null,
    albumCount: r.album_count as number,
    coverAlbumId: (r.cover_album as string | null) ?? null,
    favorite: r.starred_at !== null,
    starredAt: iso(r.starred_at),
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
