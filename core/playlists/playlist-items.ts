import { orGone } from "../db/foreign-key.ts";
import { NotFound } from "../errors.ts";
import type { Queryable } from "../jobs/enqueue.ts";
import { bestCopySql } from "../catalog/catalog-read.ts";

export interface PlaylistItemRow {
  id: string;
  position: number;
  /** Null when the track is gone, or the viewer may not see any copy of it. */
  track_id: string | null;
  album_id: string | null;
  title: string;
  artist: string;
  album: string;
  duration_ms: number | null;
  mbid: string | null;
  added_at: string;
}

/** What an item is made of: a track (whose catalog data wins) and/or a snapshot from a playlist file. */
export interface NewItem {
  trackId: string | null;
  title?: string;
  artist?: string;
  album?: string;
  durationMs?: number | null;
  mbid?: string | null;
}

/**
 * The catalog's view of track `trackSql` for viewer `viewerParam`: no row unless the viewer may see a
 * finished copy of it. Artist is the credit as written; duration is the copy streaming would pick.
 */
export function trackInfoSql(trackSql: string, viewerParam: string): string {
  return `SELECT t.id AS track_id, t.album_id, t.title, al.title AS album, t.mbid, best.duration_ms,
      coalesce((SELECT string_agg(c.credited_name || c.join_phrase, '' ORDER BY c.position)
                FROM artist_credit c WHERE c.track_id = t.id), ar.name) AS artist
    FROM track t JOIN album al ON al.id = t.album_id JOIN artist ar ON ar.id = t.artist_id
    JOIN LATERAL (${bestCopySql("t.id", { viewer: viewerParam }, "u.duration_ms")}) best ON true
    WHERE t.id = ${trackSql}`;
}

/**
 * A page of items in order. Tracks the viewer may see show the catalog's current data; the others
 * (deleted, or in a library hidden from this viewer) show the snapshot and no track id.
 */
export async function listItems(
  db: Queryable,
  playlistId: string,
  viewerId: string | null,
  page: { limit: number; offset: number },
): Promise<PlaylistItemRow[]> {
  const { rows } = await db.query(
    `SELECT i.id, i.position, i.added_at, v.track_id, v.album_id, coalesce(v.title, i.title) AS title,
        coalesce(v.artist, i.artist) AS artist, coalesce(v.album, i.album) AS album,
        coalesce(v.duration_ms, i.duration_ms) AS duration_ms, coalesce(v.mbid, i.mbid) AS mbid
     FROM playlist_item i LEFT JOIN LATERAL (${trackInfoSql("i.track_id", "$2")}) v ON true
     WHERE i.playlist_id = $1 ORDER BY i.position LIMIT $3 OFFSET $4`,
    [playlistId, viewerId, page.limit, page.offset],
  );
  return rows as PlaylistItemRow[];
}

export async function countItems(db: Queryable, playlistId: string): Promise<number> {
  const { rows } = await db.query("SELECT count(*)::int AS n FROM playlist_item WHERE playlist_id = $1", [playlistId]);
  return (rows[0] as { n: number }).n;
}

/** The ids among `trackIds` that `viewerId` may not see (or that do not exist). */
export async function invisibleTracks(db: Queryable, viewerId: string, trackIds: string[]): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT x.id FROM unnest($2::uuid[]) AS x(id) WHERE NOT EXISTS (${trackInfoSql("x.id", "$1")})`,
    [viewerId, [...new Set(trackIds)]],
  );
  return (rows as { id: string }[]).map((r) => r.id);
}

/**
 * Inserts items at `position` (0..count) after shifting the later ones, snapshotting each track as
 * the owner sees it. Run inside the transaction that locked the playlist row.
 */
export async function insertItems(db: Queryable, playlistId: string, ownerId: string, position: number, items: NewItem[]): Promise<void> {
  await db.query("UPDATE playlist_item SET position = position + $3 WHERE playlist_id = $1 AND position >= $2", [
    playlistId,
    position,
    items.length,
  ]);
  await db.query(
    `INSERT INTO playlist_item (id, playlist_id, position, track_id, title, artist, album, duration_ms, mbid)
     SELECT gen_random_uuid(), $1, $3 + x.o, v.track_id, coalesce(v.title, x.title, ''), coalesce(v.artist, x.artist, ''),
       coalesce(v.album, x.album, ''), coalesce(v.duration_ms, x."durationMs"), coalesce(v.mbid, x.mbid)
     FROM jsonb_to_recordset($4::jsonb) AS x(o int, "trackId" uuid, title text, artist text, album text, "durationMs" int, mbid uuid)
     LEFT JOIN LATERAL (${trackInfoSql('x."trackId"', "$2")}) v ON true`,
    [playlistId, ownerId, position, JSON.stringify(items.map((item, o) => ({ ...item, o })))],
  ).catch(orGone(() => new NotFound("track"), "playlist_item_track_id_foreign"));
}

/** Removes one item and closes the gap; false when the playlist has no such item. */
export async function removeItem(db: Queryable, playlistId: string, itemId: string): Promise<boolean> {
  const { rows } = await db.query("DELETE FROM playlist_item WHERE id = $2 AND playlist_id = $1 RETURNING position", [
    playlistId,
    itemId,
  ]);
  if (!rows[0]) return false;
  await db.query("UPDATE playlist_item SET position = position - 1 WHERE playlist_id = $1 AND position > $2", [
    playlistId,
    (rows[0] as { position: number }).position,
  ]);
  return true;
}

/**
 * Moves one item to `position` (clamped to the last place); the items between shift by one toward the
 * gap, in one statement. Returns the new position, or null when the playlist has no such item.
 */
export async function moveItem(db: Queryable, playlistId: string, itemId: string, position: number): Promise<number | null> {
  const { rows } = await db.query("SELECT position FROM playlist_item WHERE id = $2 AND playlist_id = $1", [playlistId, itemId]);
  if (!rows[0]) return null;
  const from = (rows[0] as { position: number }).position;
  const to = Math.min(position, (await countItems(db, playlistId)) - 1);
  await db.query(
    `UPDATE playlist_item SET position = CASE WHEN id = $2 THEN $4 WHEN $4 > $3 THEN position - 1 ELSE position + 1 END
     WHERE playlist_id = $1 AND position BETWEEN least($3::int, $4::int) AND greatest($3::int, $4::int)`,
    [playlistId, itemId, from, to],
  );
  return to;
}
