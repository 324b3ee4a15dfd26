import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { ArtistCreditTag, TrackTags } from "../media/tags.ts";
import { normalizeName, UNKNOWN_ALBUM, UNKNOWN_ARTIST, VARIOUS_ARTISTS, validMbid } from "./normalize.ts";
import { discNumberSql } from "./track-position.ts";

// Few round trips per track matter: the importer runs this for every file (bench/import.bench.ts).

type Client = pg.PoolClient;
interface Credit extends ArtistCreditTag {
  artistId: string;
}

/**
 * The catalog rows a write created (rather than matched), for a caller that marks what it brought: a
 * remote scan gives those rows their ActivityPub ids, and never touches the identity of rows it matched.
 */
export interface CreatedRows {
  artists: Set<string>;
  albums: Set<string>;
  tracks: Set<string>;
}

export function createdRows(): CreatedRows {
  return { artists: new Set(), albums: new Set(), tracks: new Set() };
}

/**
 * Serialises writers that could create the same rows, all keys in one sorted statement so two imports
 * never wait on each other in opposite orders. Released at commit.
 */
export async function lockKeys(client: Client, keys: string[]): Promise<void> {
  await client.query(
    "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM (SELECT DISTINCT unnest($1::text[]) AS k ORDER BY 1) keys",
    [keys],
  );
}

/** Album artists: the tag, else Various Artists for compilations, else the track's artists. */
export function albumArtistCredits(tags: TrackTags, trackArtists: ArtistCreditTag[]): ArtistCreditTag[] {
  if (tags.albumArtists.length) return tags.albumArtists;
  if (tags.compilation) return [{ ...VARIOUS_ARTISTS, joinPhrase: "" }];
  return trackArtists;
}

/** Names the album a file belongs to (album artist + title), before any matching. */
export function albumKey(tags: TrackTags): string {
  const albumArtists = albumArtistCredits(tags, creditsOrUnknown(tags.artists));
  return `album:${normalizeName(albumArtists[0]!.name)}:${normalizeName(tags.album ?? UNKNOWN_ALBUM)}`;
}

/** The advisory-lock keys a file's catalog write needs: its artists' names and its album. */
export function catalogLockKeys(tags: TrackTags): string[] {
  const trackArtists = creditsOrUnknown(tags.artists);
  const albumArtists = albumArtistCredits(tags, trackArtists);
  return [...[...trackArtists, ...albumArtists].map((c) => `artist:${normalizeName(c.name)}`), albumKey(tags)];
}

export function creditsOrUnknown(credits: ArtistCreditTag[]): ArtistCreditTag[] {
  return credits.length ? credits : [{ name: UNKNOWN_ARTIST, mbid: null, joinPhrase: "" }];
}

/**
 * Finds or creates an artist: by MusicBrainz id first, else by normalised name. A name match without
 * an id adopts ours (and its spelling); a name match carrying a different id is a different artist.
 */
async function resolveArtist(client: Client, credit: ArtistCreditTag, created?: CreatedRows): Promise<string> {
  const normalized = normalizeName(credit.name);
  const mbid = validMbid(credit.mbid);
  const { rows } = await client.query<{ id: string; mbid: string | null }>(
    `SELECT id, mbid FROM artist WHERE mbid = $1 OR normalized_name = $2
     ORDER BY (mbid IS NOT DISTINCT FROM $1) DESC, (mbid IS NULL) DESC, created_at LIMIT 1`,
    [mbid, normalized],
  );
  const found = rows[0];
  if (found && (found.mbid === mbid || !mbid || !found.mbid)) {
    if (mbid && !found.mbid) await client.query("UPDATE artist SET mbid = $2, name = $3 WHERE id = $1", [found.id, mbid, credit.name]);
    return found.id;
  }
  const id = randomUUID();
  await client.query("INSERT INTO artist (id, name, normalized_name, mbid) VALUES ($1, $2, $3, $4)", [id, credit.name, normalized, mbid]);
  created?.artists.add(id);
  return id;
}

async function resolveCredits(client: Client, credits: ArtistCreditTag[], known: Map<string, string>, created?: CreatedRows): Promise<Credit[]> {
  const resolved: Credit[] = [];
  for (const credit of credits) {
    const key = `${normalizeName(credit.name)}|${validMbid(credit.mbid) ?? ""}`;
    let artistId = known.get(key);
    if (!artistId) known.set(key, (artistId = await resolveArtist(client, credit, created)));
    resolved.push({ ...credit, artistId });
  }
  return resolved;
}

async function writeCredits(client: Client, owner: "track_id" | "album_id", ownerId: string, credits: Credit[], replace: boolean) {
  if (replace) await client.query(`DELETE FROM artist_credit WHERE ${owner} = $1`, [ownerId]);
  await client.query(
    `INSERT INTO artist_credit (id, ${owner}, artist_id, position, credited_name, join_phrase)
     SELECT gen_random_uuid(), $1, a, p - 1, n, j FROM unnest($2::uuid[], $3::text[], $4::text[]) WITH ORDINALITY AS c(a, n, j, p)`,
    [ownerId, credits.map((c) => c.artistId), credits.map((c) => c.name), credits.map((c) => c.joinPhrase)],
  );
}

/** By release MBID; else album artist + normalised title + year (compilations group under Various Artists). */
async function resolveAlbum(client: Client, tags: TrackTags, credits: Credit[], coverHash: string | null, created?: CreatedRows): Promise<string> {
  const title = tags.album ?? UNKNOWN_ALBUM;
  const normalized = normalizeName(title);
  const mbid = validMbid(tags.mbids.release);
  const { rows } = await client.query<{ id: string; mbid: string | null; cover_hash: string | null }>(
    `SELECT id, mbid, cover_hash FROM album
     WHERE mbid = $4 OR (album_artist_id = $1 AND normalized_title = $2 AND year IS NOT DISTINCT FROM $3
                         AND ($4::uuid IS NULL OR mbid IS NULL))
     ORDER BY (mbid IS NOT DISTINCT FROM $4) DESC, created_at LIMIT 1`,
    [credits[0]!.artistId, normalized, tags.year, mbid],
  );
  const found = rows[0];
  if (found) {
    if ((mbid && !found.mbid) || (coverHash && !found.cover_hash)) {
      await client.query("UPDATE album SET mbid = coalesce(mbid, $2), cover_hash = coalesce(cover_hash, $3) WHERE id = $1", [
        found.id,
        mbid,
        coverHash,
      ]);
    }
    return found.id;
  }
  const id = randomUUID();
  await client.query(
    `INSERT INTO album (id, title, normalized_title, album_artist_id, year, release_date, mbid, release_group_mbid,
       compilation, cover_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [id, title, normalized, credits[0]!.artistId, tags.year, tags.date, mbid, validMbid(tags.mbids.releaseGroup), tags.compilation, coverHash],
  );
  await writeCredits(client, "album_id", id, credits, false);
  created?.albums.add(id);
  return id;
}

/**
 * By release-track MBID, else recording MBID on this album, else title + disc + track number on this album
 * (no disc number is disc 1: track-position.ts) when tags or folders named the file.
 */
async function findTrack(client: Client, albumId: string, tags: TrackTags, normalized: string): Promise<string | undefined> {
  const { rows } = await client.query<{ id: string }>(
    `SELECT id FROM track
     WHERE release_track_mbid = $1 OR (album_id = $2 AND (mbid = $3 OR (NOT $7 AND normalized_title = $4
       AND ${discNumberSql("track")} = coalesce($5::int, 1) AND track_number IS NOT DISTINCT FROM $6)))
     ORDER BY (release_track_mbid = $1) DESC NULLS LAST, (mbid = $3) DESC NULLS LAST LIMIT 1`,
    [validMbid(tags.mbids.track), albumId, validMbid(tags.mbids.recording), normalized, tags.discNumber, tags.trackNumber,
      tags.identifiedByBytesOnly === true],
  );
  return rows[0]?.id;
}

async function writeGenres(client: Client, trackId: string, genres: string[], replace: boolean): Promise<void> {
  if (replace) await client.query("DELETE FROM track_genre WHERE track_id = $1", [trackId]);
  if (!genres.length) return;
  await client.query(
    `WITH g AS (
       INSERT INTO genre (id, name, normalized_name) SELECT gen_random_uuid(), n, k FROM unnest($2::text[], $3::text[]) AS x(n, k)
       ON CONFLICT (normalized_name) DO UPDATE SET name = genre.name RETURNING id)
     INSERT INTO track_genre (track_id, genre_id) SELECT $1, id FROM g ON CONFLICT DO NOTHING`,
    [trackId, genres, genres.map(normalizeName)],
  );
}

/**
 * Writes one file's tags into the shared catalog inside the caller's transaction (which holds the
 * catalogLockKeys locks) and returns the track id. `soleUploadOf` is the track this upload alone
 * pointed at before (a re-import): when the match is that track, its fields are refreshed. With
 * `keepTrack` (a remote track known by its ActivityPub id), that track is refreshed when no other matches,
 * rather than replaced by a new one: a renamed track keeps its favourites, ratings and playlist places.
 */
export async function writeCatalog(
  client: Client,
  tags: TrackTags,
  options: { coverHash: string | null; soleUploadOf: string | null; keepTrack?: boolean; created?: CreatedRows },
): Promise<string> {
  const { created } = options;
  const trackArtists = creditsOrUnknown(tags.artists);
  const known = new Map<string, string>();
  const trackCredits = await resolveCredits(client, trackArtists, known, created);
  const albumCredits = await resolveCredits(client, albumArtistCredits(tags, trackArtists), known, created);
  const albumId = await resolveAlbum(client, tags, albumCredits, options.coverHash, created);

  const title = tags.title ?? "Untitled";
  const normalized = normalizeName(title);
  const existing = (await findTrack(client, albumId, tags, normalized)) ?? ((options.keepTrack && options.soleUploadOf) || undefined);
  if (existing && existing !== options.soleUploadOf) return existing;
  const values = [
    title,
    normalized,
    albumId,
    trackCredits[0]!.artistId,
    tags.discNumber,
    tags.discTotal,
    tags.trackNumber,
    tags.trackTotal,
    validMbid(tags.mbids.recording),
    validMbid(tags.mbids.track),
  ];
  const id = existing ?? randomUUID();
  await client.query(
    existing
      ? `UPDATE track SET title = $1, normalized_title = $2, album_id = $3, artist_id = $4, disc_number = $5,
           disc_total = $6, track_number = $7, track_total = $8, mbid = $9, release_track_mbid = $10 WHERE id = $11`
      : `INSERT INTO track (title, normalized_title, album_id, artist_id, disc_number, disc_total, track_number,
           track_total, mbid, release_track_mbid, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [...values, id],
  );
  await writeCredits(client, "track_id", id, trackCredits, Boolean(existing));
  await writeGenres(client, id, tags.genres, Boolean(existing));
  if (!existing) created?.tracks.add(id);
  return id;
}
