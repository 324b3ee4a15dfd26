import type pg from "pg";
import { finishedCopySql } from "../catalog/catalog-read.ts";
import type { Privacy } from "../library/library.entity.ts";

// Microblog followers (Mastodon and the software that speaks like it) of a local library are told of
// new tracks by posts: one Note per album a publish job added, from the library's actor. Servers that
// sync libraries (Polyphony, Funkwhale) get Create(Audio) instead (follower-audiences.ts splits them).

/** At most this many Notes per publish job (100 uploads): a big import posts a handful, not one per track. */
export const NOTES_PER_JOB = 5;
/**
 * And at most this many per library an hour, whatever the jobs (a library of 10,000 tracks imported at
 * once is 100 jobs): past it, albums go unannounced, as a person would not post them all either.
 */
export const NOTES_PER_HOUR = 20;
/** The rate_limit key counting a library's (or a playlist's) Notes. */
export const notesBudgetKey = (collectionId: string) => `microblog-notes:${collectionId}`;
/** Tracks a Note lists by name, and tracks it attaches as audio (Mastodon shows 4 attachments, one is the cover). */
export const TRACKS_LISTED = 30;
export const AUDIO_ATTACHMENTS = 3;

export interface AnnouncedTrack {
  uploadId: string;
  title: string;
  artist: string;
  mimeType: string | null;
}

/** What one Note says: an album's tracks just added to a library. */
export interface AlbumAnnouncement {
  /** The Note's key: the first of its uploads (by disc and track number). */
  key: string;
  libraryId: string;
  libraryName: string;
  privacy: Privacy;
  actorUsername: string;
  followersUrl: string;
  albumId: string;
  albumTitle: string;
  albumArtist: string;
  coverHash: string | null;
  published: Date;
  tracks: AnnouncedTrack[];
}

interface TrackRow {
  upload_id: string;
  mime_type: string | null;
  created_at: Date | string;
  title: string;
  artist: string;
  album_id: string;
  album_title: string;
  album_artist: string;
  cover_hash: string | null;
  library_id: string;
  library_name: string;
  privacy: Privacy;
  actor_username: string;
  followers_url: string;
}

const TRACK_SELECT = `SELECT u.id AS upload_id, u.mime_type, u.created_at, t.title, ta.name AS artist, al.id AS album_id,
    al.title AS album_title, aa.name AS album_artist, al.cover_hash, l.id AS library_id, l.name AS library_name, l.privacy,
    la.username AS actor_username, la.followers_url
  FROM upload u JOIN track t ON t.id = u.track_id JOIN artist ta ON ta.id = t.artist_id
  JOIN album al ON al.id = t.album_id JOIN artist aa ON aa.id = al.album_artist_id
  JOIN library l ON l.id = u.library_id AND l.owner_id IS NOT NULL JOIN actor la ON la.id = l.actor_id AND la.deleted_at IS NULL`;
const TRACK_ORDER = "ORDER BY al.id, t.disc_number NULLS LAST, t.track_number NULLS LAST, u.id";

/** The albums these uploads (still finished, in this library) add, one announcement each, at most NOTES_PER_JOB. */
export async function albumAnnouncements(db: pg.Pool, libraryId: string, uploadIds: string[]): Promise<AlbumAnnouncement[]> {
  const { rows } = await db.query<TrackRow>(
    `${TRACK_SELECT} WHERE u.id = ANY($1::uuid[]) AND u.library_id = $2 AND ${finishedCopySql("u")} ${TRACK_ORDER}`,
    [uploadIds, libraryId],
  );
  return groupByAlbum(rows).slice(0, NOTES_PER_JOB);
}

/**
 * The announcement a Note's id names, read again when a server fetches it: the album of upload `key`
 * as its public library holds it now. Null for anything else (a library that is not public, an upload
 * gone or moved): its Notes answer 404, as nobody but the followers they were sent to may read them.
 */
export async function announcementOf(db: pg.Pool, key: string): Promise<AlbumAnnouncement | null> {
  const { rows } = await db.query<TrackRow>(
    `${TRACK_SELECT}
     JOIN (SELECT ku.library_id, kt.album_id FROM upload ku JOIN track kt ON kt.id = ku.track_id
           WHERE ku.id = $1 AND ${finishedCopySql("ku")}) k ON k.library_id = u.library_id AND k.album_id = t.album_id
     WHERE l.privacy = 'public' AND ${finishedCopySql("u")} ${TRACK_ORDER}`,
    [key],
  );
  const announcement = groupByAlbum(rows)[0];
  if (!announcement) return null;
  // The Note keeps its id: the key upload names it even when an earlier track was added since.
  return { ...announcement, key, published: new Date(rows.find((r) => r.upload_id === key)!.created_at) };
}

function groupByAlbum(rows: TrackRow[]): AlbumAnnouncement[] {
  const albums = new Map<string, AlbumAnnouncement>();
  for (const row of rows) {
    let album = albums.get(row.album_id);
    if (!album) {
      album = {
        key: row.upload_id,
        libraryId: row.library_id,
        libraryName: row.library_name,
        privacy: row.privacy,
        actorUsername: row.actor_username,
        followersUrl: row.followers_url,
        albumId: row.album_id,
        albumTitle: row.album_title,
        albumArtist: row.album_artist,
        coverHash: row.cover_hash,
        published: new Date(row.created_at),
        tracks: [],
      };
      albums.set(row.album_id, album);
    }
    album.tracks.push({ uploadId: row.upload_id, title: row.title, artist: row.artist, mimeType: row.mime_type });
  }
  return [...albums.values()];
}
