import type pg from "pg";
import { BEST_COPY_ORDER, finishedCopySql } from "../catalog/catalog-read.ts";
import type { Privacy } from "../library/library.entity.ts";
import { AUDIO_COLUMNS, LIBRARY_PAGE_SIZE, type LibraryAudioRow } from "./library-collection.queries.ts";

// What a local playlist's federated documents list (issue 17, point 1): its items in order, each with the
// copy of its track that plays for the playlist's followers (the "served" upload), and those copies as a
// Library collection (the Playlist's `library`, as Funkwhale 2.0 gives each playlist one). The documents'
// heads answer anyone holding their URL; their pages only the playlist's readers (mayReadPlaylist).

export interface PlaylistCollectionHead {
  id: string;
  name: string;
  description: string;
  privacy: Privacy;
  /** The playlist's own actor: it accepts follows, and the documents are attributed to it. */
  actorFid: string;
  followersUrl: string;
  ownerFid: string;
  /** Items with a served copy (the others are not listed). */
  totalItems: number;
  /** Distinct served copies: the playlist library's items. */
  totalAudio: number;
  createdAt: Date | string;
  updatedAt: Date | string;
}

export interface PlaylistTrackRow {
  item_id: string;
  /** Dense among the listed items, from 0. */
  index: number;
  track_id: string;
  upload_id: string;
  added_at: Date | string;
}

/**
 * SQL: each listed item of playlist $1 (`item_id`, `track_id`, `position`) with the copy its followers
 * hear (`upload_id`): the best finished copy on this server, in the owner's own libraries (which the follow
 * grants: readableUploadBySignerSql) or a public one. Items without such a copy are not listed.
 */
const SERVED_ITEMS = `SELECT i.id AS item_id, i.track_id, i.position, i.added_at, s.upload_id
  FROM playlist p JOIN playlist_item i ON i.playlist_id = p.id
  JOIN LATERAL (SELECT u.id AS upload_id FROM upload u JOIN library l ON l.id = u.library_id
                WHERE u.track_id = i.track_id AND ${finishedCopySql("u")} AND u.storage <> 'remote'
                  AND l.owner_id IS NOT NULL AND (l.owner_id = p.owner_id OR l.privacy = 'public')
                ORDER BY ${BEST_COPY_ORDER} LIMIT 1) s ON true
  WHERE p.id = $1`;

/** The local, non-private playlist `playlistId` with its counts; null when missing, private or remote. */
export async function findPlaylistCollection(db: pg.Pool, playlistId: string): Promise<PlaylistCollectionHead | null> {
  const { rows } = await db.query<PlaylistCollectionHead & { totalItems: string; totalAudio: string }>(
    `SELECT p.id, p.name, p.description, p.privacy, pa.fid AS "actorFid", pa.followers_url AS "followersUrl", oa.fid AS "ownerFid",
            p.created_at AS "createdAt", p.updated_at AS "updatedAt",
            (SELECT count(*) FROM (${SERVED_ITEMS}) x) AS "totalItems",
            (SELECT count(DISTINCT x.upload_id) FROM (${SERVED_ITEMS}) x) AS "totalAudio"
     FROM playlist p JOIN actor pa ON pa.id = p.actor_id JOIN app_user o ON o.id = p.owner_id JOIN actor oa ON oa.id = o.actor_id
     WHERE p.id = $1 AND p.privacy <> 'private'`,
    [playlistId],
  );
  const row = rows[0];
  return row ? { ...row, totalItems: Number(row.totalItems), totalAudio: Number(row.totalAudio) } : null;
}

/**
 * Whether the signer (an actor row, or null when unsigned) may read the playlist's pages, its items'
 * Audio and media: anyone for a public playlist, its accepted followers for an instance one.
 */
export async function mayReadPlaylist(db: pg.Pool, playlistId: string, signer: string | null): Promise<boolean> {
  const { rowCount } = await db.query(
    `SELECT 1 FROM playlist p WHERE p.id = $1 AND p.owner_id IS NOT NULL AND (p.privacy = 'public'
       OR (p.privacy = 'instance' AND EXISTS (SELECT 1 FROM follow f WHERE f.playlist_id = p.id AND f.follower_id = $2::uuid AND f.state = 'accepted')))`,
    [playlistId, signer],
  );
  return Boolean(rowCount);
}

/** One page (1-based) of the listed items, in the playlist's order. */
export async function playlistTrackPage(db: pg.Pool, playlistId: string, page: number): Promise<PlaylistTrackRow[]> {
  const { rows } = await db.query<PlaylistTrackRow>(
    `SELECT item_id, track_id, upload_id, added_at, (row_number() OVER (ORDER BY position) - 1)::int AS index
     FROM (${SERVED_ITEMS}) x ORDER BY position LIMIT $2 OFFSET $3`,
    [playlistId, LIBRARY_PAGE_SIZE, (page - 1) * LIBRARY_PAGE_SIZE],
  );
  // row_number() runs before LIMIT: the index in the whole list.
  return rows;
}

/** One page (1-based) of the served copies as Audio rows, by upload id (as a library's pages are). */
export async function playlistAudioPage(db: pg.Pool, playlistId: string, page: number): Promise<LibraryAudioRow[]> {
  const { rows } = await db.query<LibraryAudioRow>(
    `WITH page AS (SELECT DISTINCT upload_id FROM (${SERVED_ITEMS}) x ORDER BY upload_id LIMIT $2 OFFSET $3)
     SELECT ${AUDIO_COLUMNS}
     FROM page JOIN upload u ON u.id = page.upload_id JOIN track t ON t.id = u.track_id JOIN album al ON al.id = t.album_id
     ORDER BY u.id`,
    [playlistId, LIBRARY_PAGE_SIZE, (page - 1) * LIBRARY_PAGE_SIZE],
  );
  return rows;
}

