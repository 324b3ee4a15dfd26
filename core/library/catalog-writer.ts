import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { ArtistCreditTag, TrackTags } from "../media/tags.ts";
import { normalizeName, UNKNOWN_ALBUM, UNKNOWN_ARTIST, VARIOUS_ARTISTS, validMbid } from "./normalize.ts";

type Client = pg.PoolClient;
interface Credit extends ArtistCreditTag {
  artistId: string;
}

/** Serialises writers that could create the same row; released at commit. */
async function lock(client: Client, key: string): Promise<void> {
  await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [key]);
}

/**
 * Finds or creates the artist: by MusicBrainz id first, else by normalised name. A name match
 * without an id adopts ours; a name match carrying a different id is a different artist.
 */
async function resolveArtist(client: Client, credit: ArtistCreditTag): Promise<string> {
  const normalized = normalizeName(credit.name);
  const mbid = validMbid(credit.mbid);
  if (mbid) {
    const byId = await client.query<{ id: string }>("SELECT id FROM artist WHERE mbid = $1", [mbid]);
    if (byId.rows[0]) return byId.rows[0].id;
  }
  const byName = await client.query<{ id: string; mbid: string | null }>(
    `SELECT id, mbid FROM artist WHERE normalized_name = $1 ORDER BY (mbid IS NULL) DESC, created_at LIMIT 1`,
    [normalized],
  );
  const found = byName.rows[0];
  if (found && (!mbid || !found.mbid)) {
    // A tag with an id is the better source for the name's spelling too.
    if (mbid) await client.query("UPDATE artist SET mbid = $2, name = $3 WHERE id = $1", [found.id, mbid, credit.name]);
    return found.id;
  }
  const id = randomUUID();
  await client.query("INSERT INTO artist (id, name, normalized_name, mbid) VALUES ($1, $2, $3, $4)", [
    id,
    credit.name,
    normalized,
    mbid,
  ]);
  return id;
}

/** Album artists: the tag, else Various Artists for compilations, else the track's artists. */
function albumArtistCredits(tags: TrackTags, trackArtists: ArtistCreditTag[]): ArtistCreditTag[] {
  if (tags.albumArtists.length) return tags.albumArtists;
  if (tags.compilation) return [{ ...VARIOUS_ARTISTS, joinPhrase: "" }];
  return trackArtists;
}

async function resolveCredits(client: Client, credits: ArtistCreditTag[]): Promise<Credit[]> {
  const resolved: Credit[] = [];
  for (const credit of credits) resolved.push({ ...credit, artistId: await resolveArtist(client, credit) });
  return resolved;
}

async function writeCredits(client: Client, owner: "track_id" | "album_id", ownerId: string, credits: Credit[]) {
  await client.query(`DELETE FROM artist_credit WHERE ${owner} = $1`, [ownerId]);
  for (const [position, credit] of credits.entries()) {
    await client.query(
      `INSERT INTO artist_credit (id, ${owner}, artist_id, position, credited_name, join_phrase) VALUES ($1, $2, $3, $4, $5, $6)`,
      [randomUUID(), ownerId, credit.artistId, position, credit.name, credit.joinPhrase],
    );
  }
}

/** By release MBID; else album artist + normalised title + year (compilations group under Various Artists). */
async function resolveAlbum(client: Client, tags: TrackTags, credits: Credit[], coverHash: string | null): Promise<string> {
  const title = tags.album ?? UNKNOWN_ALBUM;
  const normalized = normalizeName(title);
  const artistId = credits[0]!.artistId;
  const mbid = validMbid(tags.mbids.release);
  await lock(client, `album:${artistId}:${normalized}`);
  let found: { id: string; mbid: string | null; cover_hash: string | null } | undefined;
  if (mbid) found = (await client.query("SELECT id, mbid, cover_hash FROM album WHERE mbid = $1", [mbid])).rows[0];
  found ??= (
    await client.query(
      `SELECT id, mbid, cover_hash FROM album WHERE album_artist_id = $1 AND normalized_title = $2
         AND year IS NOT DISTINCT FROM $3 AND ($4::uuid IS NULL OR mbid IS NULL) ORDER BY created_at LIMIT 1`,
      [artistId, normalized, tags.year, mbid],
    )
  ).rows[0];
  if (found) {
    if (mbid && !found.mbid) await client.query("UPDATE album SET mbid = $2 WHERE id = $1", [found.id, mbid]);
    if (coverHash && !found.cover_hash) await client.query("UPDATE album SET cover_hash = $2 WHERE id = $1", [found.id, coverHash]);
    return found.id;
  }
  const id = randomUUID();
  await client.query(
    `INSERT INTO album (id, title, normalized_title, album_artist_id, year, release_date, mbid, release_group_mbid,
       compilation, cover_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [id, title, normalized, artistId, tags.year, tags.date, mbid, validMbid(tags.mbids.releaseGroup), tags.compilation, coverHash],
  );
  await writeCredits(client, "album_id", id, credits);
  return id;
}

async function findTrack(client: Client, albumId: string, tags: TrackTags, normalized: string): Promise<string | undefined> {
  const releaseTrack = validMbid(tags.mbids.track);
  const recording = validMbid(tags.mbids.recording);
  if (releaseTrack) {
    const hit = await client.query("SELECT id FROM track WHERE release_track_mbid = $1", [releaseTrack]);
    if (hit.rows[0]) return hit.rows[0].id;
  }
  if (recording) {
    const hit = await client.query("SELECT id FROM track WHERE album_id = $1 AND mbid = $2 LIMIT 1", [albumId, recording]);
    if (hit.rows[0]) return hit.rows[0].id;
  }
  const hit = await client.query(
    `SELECT id FROM track WHERE album_id = $1 AND normalized_title = $2
       AND disc_number IS NOT DISTINCT FROM $3 AND track_number IS NOT DISTINCT FROM $4 LIMIT 1`,
    [albumId, normalized, tags.discNumber, tags.trackNumber],
  );
  return hit.rows[0]?.id;
}

async function writeGenres(client: Client, trackId: string, genres: string[]): Promise<void> {
  await client.query("DELETE FROM track_genre WHERE track_id = $1", [trackId]);
  for (const name of genres) {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO genre (id, name, normalized_name) VALUES ($1, $2, $3)
       ON CONFLICT (normalized_name) DO UPDATE SET name = genre.name RETURNING id`,
      [randomUUID(), name, normalizeName(name)],
    );
    await client.query("INSERT INTO track_genre (track_id, genre_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [
      trackId,
      rows[0]!.id,
    ]);
  }
}

/**
 * Writes one file's tags into the shared catalog inside the caller's transaction and returns the
 * track id. Matching: MusicBrainz ids first, then normalised names. `soleUploadOf` is the track this
 * upload alone pointed at before (a re-import): when the match is that track, its fields are refreshed.
 */
export async function writeCatalog(
  client: Client,
  tags: TrackTags,
  options: { coverHash: string | null; soleUploadOf: string | null },
): Promise<string> {
  const trackArtists = tags.artists.length ? tags.artists : [{ name: UNKNOWN_ARTIST, mbid: null, joinPhrase: "" }];
  const albumArtists = albumArtistCredits(tags, trackArtists);
  // Artist locks in one sorted pass, so two imports never wait on each other in opposite orders.
  const names = [...new Set([...trackArtists, ...albumArtists].map((c) => normalizeName(c.name)))].sort();
  for (const name of names) await lock(client, `artist:${name}`);
  const trackCredits = await resolveCredits(client, trackArtists);
  const albumCredits = await resolveCredits(client, albumArtists);
  const albumId = await resolveAlbum(client, tags, albumCredits, options.coverHash);

  const title = tags.title ?? "Untitled";
  const normalized = normalizeName(title);
  await lock(client, `track:${albumId}`);
  const existing = await findTrack(client, albumId, tags, normalized);
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
  if (existing) {
    await client.query(
      `UPDATE track SET title = $1, normalized_title = $2, album_id = $3, artist_id = $4, disc_number = $5,
         disc_total = $6, track_number = $7, track_total = $8, mbid = $9, release_track_mbid = $10 WHERE id = $11`,
      [...values, id],
    );
  } else {
    await client.query(
      `INSERT INTO track (title, normalized_title, album_id, artist_id, disc_number, disc_total, track_number,
         track_total, mbid, release_track_mbid, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [...values, id],
    );
  }
  await writeCredits(client, "track_id", id, trackCredits);
  await writeGenres(client, id, tags.genres);
  return id;
}
