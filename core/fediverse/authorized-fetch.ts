import type pg from "pg";
import {
  finishedCopySql,
  itemInLibrariesSql,
  playlistGrantedTracksSql,
  readableBySignerSql,
  readableLibraryIdsSql,
  readableUploadBySignerSql,
} from "../catalog/catalog-read.ts";
import type { UploadFileFields } from "../library/upload-files.ts";
import {
  ALBUM_COLUMNS,
  AUDIO_COLUMNS,
  TRACK_COLUMNS,
  type AlbumRow,
  type ArtistRow,
  type AudioLibrary,
  type LibraryAudioRow,
  type TrackRow,
} from "./library-collection.queries.ts";

// What another server may read of ours, by who signed its request (authorized fetch): `signer` is the
// actor row of a verified signature, or null for an unsigned request. One rule decides
// (readableBySignerSql in catalog-read.ts): public libraries for everyone, private and instance ones for
// actors whose follow was accepted; and the items of a playlist for its accepted followers (the playlist
// grant: readableUploadBySignerSql, playlistGrantedTracksSql). Everything else is null here, answered
// like something missing.

/** The tracks the signer ($2) was granted by the playlists it follows, and conditions on catalog rows of them. */
const GRANTED = playlistGrantedTracksSql("$2");
const grantedTrack = (alias: string) => `${alias}.id = ANY(${GRANTED})`;
const grantedAlbum = (alias: string) => `EXISTS (SELECT 1 FROM track gt WHERE gt.album_id = ${alias}.id AND gt.id = ANY(${GRANTED}))`;
const grantedArtist = (alias: string) => `EXISTS (SELECT 1 FROM artist_credit gc WHERE gc.artist_id = ${alias}.id AND gc.track_id = ANY(${GRANTED}))`;

/** Whether `signer` (an actor row id, or null) may read local library `libraryId`'s pages, audio and media. */
export async function mayReadLibrary(db: pg.Pool, libraryId: string, signer: string | null): Promise<boolean> {
  const { rowCount } = await db.query(`SELECT 1 FROM library l WHERE l.id = $1 AND ${readableBySignerSql("l", "$2")}`, [libraryId, signer]);
  return Boolean(rowCount);
}

/** A finished upload of a library the signer may read, as its Audio object shows it. */
export async function findAudio(db: pg.Pool, uploadId: string, signer: string | null): Promise<{ library: AudioLibrary; row: LibraryAudioRow } | null> {
  const { rows } = await db.query<LibraryAudioRow & { library: AudioLibrary }>(
    `SELECT ${AUDIO_COLUMNS}, json_build_object('id', l.id, 'privacy', l.privacy, 'actorFid', la.fid) AS library
     FROM upload u
     JOIN library l ON l.id = u.library_id
     JOIN actor la ON la.id = l.actor_id
     JOIN track t ON t.id = u.track_id
     JOIN album al ON al.id = t.album_id
     WHERE u.id = $1 AND ${finishedCopySql("u")} AND ${readableUploadBySignerSql("u", "l", "$2")}`,
    [uploadId, signer],
  );
  const found = rows[0];
  if (!found) return null;
  const { library, ...row } = found;
  return { library, row };
}

/** A track held (finished) by a library the signer may read. */
export async function findTrack(db: pg.Pool, trackId: string, signer: string | null): Promise<TrackRow | null> {
  const { rows } = await db.query<TrackRow>(
    `SELECT ${TRACK_COLUMNS} FROM track t JOIN album al ON al.id = t.album_id
     WHERE t.id = $1 AND (${itemInLibrariesSql("tracks", "t", readableLibraryIdsSql("$2"))} OR ${grantedTrack("t")})`,
    [trackId, signer],
  );
  return rows[0] ?? null;
}

/** An album held by a library the signer may read. */
export async function findAlbum(db: pg.Pool, albumId: string, signer: string | null): Promise<AlbumRow | null> {
  const { rows } = await db.query<AlbumRow>(
    `SELECT ${ALBUM_COLUMNS} FROM album al WHERE al.id = $1 AND (${itemInLibrariesSql("albums", "al", readableLibraryIdsSql("$2"))} OR ${grantedAlbum("al")})`,
    [albumId, signer],
  );
  return rows[0] ?? null;
}

/** An artist credited in a library the signer may read. */
export async function findArtist(db: pg.Pool, artistId: string, signer: string | null): Promise<ArtistRow | null> {
  const { rows } = await db.query<ArtistRow>(
    `SELECT a.id, a.created_at, a.name, a.mbid FROM artist a
     WHERE a.id = $1 AND (${itemInLibrariesSql("artists", "a", readableLibraryIdsSql("$2"))} OR ${grantedArtist("a")})`,
    [artistId, signer],
  );
  return rows[0] ?? null;
}

export type ServableUpload = UploadFileFields & { id: string; mime_type: string | null };

/**
 * The file of a finished upload the signer may read, to send as it is. Only our own files: a remote
 * library's uploads (storage 'remote', cached copies included) are never served again by us.
 */
export async function findServableUpload(db: pg.Pool, uploadId: string, signer: string | null): Promise<ServableUpload | null> {
  const { rows } = await db.query<ServableUpload>(
    `SELECT u.id, u.storage, u.path, u.root, u.mime_type FROM upload u JOIN library l ON l.id = u.library_id
     WHERE u.id = $1 AND ${finishedCopySql("u")} AND u.storage <> 'remote' AND ${readableUploadBySignerSql("u", "l", "$2")}`,
    [uploadId, signer],
  );
  return rows[0] ?? null;
}

/** Whether the cover with this content hash belongs to an album the signer may read. */
export async function mayReadCover(db: pg.Pool, hash: string, signer: string | null): Promise<boolean> {
  const { rowCount } = await db.query(
    `SELECT 1 FROM album al WHERE al.cover_hash = $1
       AND (${itemInLibrariesSql("albums", "al", readableLibraryIdsSql("$2"))} OR ${grantedAlbum("al")}) LIMIT 1`,
    [hash, signer],
  );
  return Boolean(rowCount);
}
