import { BEST_COPY_ORDER, finishedCopySql, readableBySignerSql } from "../catalog/catalog-read.ts";
import type { Queryable } from "../jobs/enqueue.ts";
import type { Privacy } from "../library/library.entity.ts";
import { publicCoverSql } from "./actor-profiles.ts";

// Microblog followers of a local playlist are told of the tracks added to it by a post: one Note per
// edit that added items (its publish job carries their ids), from the playlist's actor, under the same
// caps as a library's (NOTES_PER_HOUR through the same rate_limit counter; one Note a job).

/** Added items a job carries (and a Note reads): an edit adding more is counted, not listed. */
export const ITEMS_PER_NOTE = 100;

export interface AnnouncedItem {
  itemId: string;
  title: string;
  artist: string;
  albumId: string | null;
  /** The album's cover when anyone may fetch it. */
  coverHash: string | null;
  /** A finished copy in a public library (anyone may fetch it, unsigned, as Mastodon does); else null. */
  publicAudio: { uploadId: string; mimeType: string | null } | null;
}

/** What one playlist Note says: the items one edit added. */
export interface PlaylistAnnouncement {
  /** The Note's key: the first added item (by position). */
  key: string;
  playlistId: string;
  playlistName: string;
  privacy: Privacy;
  actorUsername: string;
  followersUrl: string;
  published: Date;
  /** How many items the edit added (it may be more than `items`). */
  added: number;
  items: AnnouncedItem[];
}

interface ItemRow {
  item_id: string;
  added_at: Date | string;
  title: string;
  artist: string;
  album_id: string | null;
  cover_hash: string | null;
  upload_id: string | null;
  mime_type: string | null;
  playlist_id: string;
  playlist_name: string;
  privacy: Privacy;
  actor_username: string;
  followers_url: string;
  total: number;
}

/** Items of a shared (non-private) local playlist whose actor is live; the caller adds `AND ...` conditions. */
const ITEM_SELECT = `SELECT i.id AS item_id, i.added_at, i.title, i.artist, t.album_id,
    CASE WHEN ${publicCoverSql} THEN al.cover_hash END AS cover_hash, pu.id AS upload_id, pu.mime_type,
    p.id AS playlist_id, p.name AS playlist_name, p.privacy, pa.username AS actor_username, pa.followers_url,
    count(*) OVER ()::int AS total
  FROM playlist_item i JOIN playlist p ON p.id = i.playlist_id AND p.owner_id IS NOT NULL AND p.privacy <> 'private'
  JOIN actor pa ON pa.id = p.actor_id AND pa.deleted_at IS NULL
  LEFT JOIN track t ON t.id = i.track_id LEFT JOIN album al ON al.id = t.album_id
  LEFT JOIN LATERAL (SELECT u.id, u.mime_type FROM upload u JOIN library l ON l.id = u.library_id
                     WHERE u.track_id = i.track_id AND ${finishedCopySql("u")} AND ${readableBySignerSql("l", "NULL")}
                     ORDER BY ${BEST_COPY_ORDER} LIMIT 1) pu ON true
  WHERE true`;

/** The announcement of these added items (those still in the playlist); null when none is, or it is private or gone. */
export async function playlistAnnouncement(db: Queryable, playlistId: string, itemIds: string[], added: number): Promise<PlaylistAnnouncement | null> {
  const { rows } = await db.query(`${ITEM_SELECT} AND i.playlist_id = $1 AND i.id = ANY($2::uuid[]) ORDER BY i.position LIMIT ${ITEMS_PER_NOTE}`, [
    playlistId,
    itemIds.slice(0, ITEMS_PER_NOTE),
  ]);
  return announce(rows as ItemRow[], added);
}

/**
 * The announcement a Note's id names, read again when a server fetches it: the items added with item
 * `key` (one edit: one transaction, one added_at) to a public playlist, as they are now; null otherwise
 * (its Notes answer 404: only its followers were sent them).
 */
export async function playlistAnnouncementOf(db: Queryable, key: string): Promise<PlaylistAnnouncement | null> {
  const { rows } = await db.query(
    `${ITEM_SELECT} AND p.privacy = 'public'
       AND (i.playlist_id, i.added_at) = (SELECT k.playlist_id, k.added_at FROM playlist_item k WHERE k.id = $1)
     ORDER BY i.position LIMIT ${ITEMS_PER_NOTE}`,
    [key],
  );
  const announcement = announce(rows as ItemRow[], (rows[0] as ItemRow | undefined)?.total ?? 0);
  // The Note keeps its id, whatever was removed since.
  return announcement && { ...announcement, key };
}

function announce(rows: ItemRow[], added: number): PlaylistAnnouncement | null {
  const first = rows[0];
  if (!first) return null;
  return {
    key: first.item_id,
    playlistId: first.playlist_id,
    playlistName: first.playlist_name,
    privacy: first.privacy,
    actorUsername: first.actor_username,
    followersUrl: first.followers_url,
    published: new Date(first.added_at),
    added: Math.max(added, rows.length),
    items: rows.map((r) => ({
      itemId: r.item_id,
      title: r.title,
      artist: r.artist,
      albumId: r.album_id,
      coverHash: r.cover_hash,
      publicAudio: r.upload_id ? { uploadId: r.upload_id, mimeType: r.mime_type } : null,
    })),
  };
}
