import type pg from "pg";
import { finishedCopySql } from "../catalog/catalog-read.ts";
import type { Privacy } from "../library/library.entity.ts";

// What a local library's federated collection lists: its finished uploads, each with the track, album
// and artist credits Funkwhale reads. The collection itself (metadata and counts) is readable by anyone
// holding its URL; its pages only by who may read the library (readableBySignerSql: public libraries
// for everyone, others for their accepted followers), which the route checks first.

/** Funkwhale's own page size (federation__collection_page_size). */
export const LIBRARY_PAGE_SIZE = 50;

export interface LibraryCollectionHead {
  id: string;
  name: string;
  description: string;
  privacy: Privacy;
  /** The library's own actor (its followers collection addresses Create/Delete(Audio)). */
  actorFid: string;
  followersUrl: string;
  /** The owner's person actor. */
  ownerFid: string;
  /** Finished uploads. */
  totalItems: number;
}

/** What an Audio object says of its library. */
export type AudioLibrary = Pick<LibraryCollectionHead, "id" | "actorFid" | "privacy">;

export interface ArtistRow {
  id: string;
  created_at: Date | string;
  name: string;
  mbid: string | null;
}

export interface ArtistCreditRow extends ArtistRow {
  credit_id: string;
  credited_name: string;
  join_phrase: string;
}

export interface AlbumRow {
  album_id: string;
  album_title: string;
  album_mbid: string | null;
  release_date: string | null;
  year: number | null;
  cover_hash: string | null;
  album_created_at: Date | string;
  album_credits: ArtistCreditRow[];
}

export interface TrackRow extends AlbumRow {
  track_id: string;
  track_title: string;
  track_number: number | null;
  disc_number: number | null;
  track_mbid: string | null;
  track_created_at: Date | string;
  track_credits: ArtistCreditRow[];
}

export interface LibraryAudioRow extends TrackRow {
  upload_id: string;
  mime_type: string | null;
  size: string;
  duration_ms: number | null;
  bitrate: number | null;
  created_at: Date | string;
  updated_at: Date | string;
}

/** The local library `libraryId`, whatever its privacy, with its count of finished uploads; null when missing. */
export async function findLibraryCollection(db: pg.Pool, libraryId: string): Promise<LibraryCollectionHead | null> {
  return (await libraryHeads(db, "l.id = $1", [libraryId]))[0] ?? null;
}

/** The heads of the local libraries matching `where` (on `l`), oldest first. */
async function libraryHeads(db: pg.Pool, where: string, params: unknown[]): Promise<LibraryCollectionHead[]> {
  const { rows } = await db.query<Omit<LibraryCollectionHead, "totalItems"> & { totalItems: string }>(
    `SELECT l.id, l.name, l.description, l.privacy, la.fid AS "actorFid", la.followers_url AS "followersUrl", oa.fid AS "ownerFid",
            (SELECT count(*) FROM upload u WHERE u.library_id = l.id AND ${finishedCopySql("u")}) AS "totalItems"
     FROM library l
     JOIN actor la ON la.id = l.actor_id
     JOIN app_user o ON o.id = l.owner_id
     JOIN actor oa ON oa.id = o.actor_id
     WHERE ${where} AND l.owner_id IS NOT NULL
     ORDER BY l.created_at, l.id`,
    params,
  );
  return rows.map((row) => ({ ...row, totalItems: Number(row.totalItems) }));
}

/** Libraries in the public index a page. */
export const LIBRARY_INDEX_PAGE_SIZE = 50;

/**
 * Page `page` (1-based) of the public index of our public libraries (what instance follows discover,
 * ours or Funkwhale's), and how many there are. Only `public` libraries, oldest first.
 */
export async function publicLibraryIndex(db: pg.Pool, page: number): Promise<{ total: number; heads: LibraryCollectionHead[] }> {
  const { rows } = await db.query<{ total: number }>("SELECT count(*)::int AS total FROM library WHERE owner_id IS NOT NULL AND privacy = 'public'");
  const heads = await libraryHeads(db, `l.privacy = 'public' AND l.id IN (
      SELECT id FROM library WHERE owner_id IS NOT NULL AND privacy = 'public' ORDER BY created_at, id LIMIT $1 OFFSET $2)`, [
    LIBRARY_INDEX_PAGE_SIZE,
    (page - 1) * LIBRARY_INDEX_PAGE_SIZE,
  ]);
  return { total: rows[0]!.total, heads };
}

/** An ordered credit list (track or album) as JSON, each with its artist. */
const creditsSql = (column: "track_id" | "album_id", owner: string) =>
  `(SELECT coalesce(json_agg(json_build_object('credit_id', c.id, 'id', a.id, 'created_at', a.created_at, 'name', a.name, 'mbid', a.mbid,
             'credited_name', c.credited_name, 'join_phrase', c.join_phrase) ORDER BY c.position), '[]')
    FROM artist_credit c JOIN artist a ON a.id = c.artist_id WHERE c.${column} = ${owner})`;

/** The AlbumRow columns of album `al`. */
export const ALBUM_COLUMNS = `al.id AS album_id, al.title AS album_title, al.mbid AS album_mbid, al.release_date, al.year, al.cover_hash,
  al.created_at AS album_created_at, ${creditsSql("album_id", "al.id")} AS album_credits`;

/** The TrackRow columns of track `t` and its album `al`. */
export const TRACK_COLUMNS = `t.id AS track_id, t.title AS track_title, t.track_number, t.disc_number, t.mbid AS track_mbid,
  t.created_at AS track_created_at, ${creditsSql("track_id", "t.id")} AS track_credits, ${ALBUM_COLUMNS}`;

/** The LibraryAudioRow columns of upload `u`, its track `t` and album `al`. */
export const AUDIO_COLUMNS = `u.id AS upload_id, u.mime_type, u.size, u.duration_ms, u.bitrate, u.created_at, u.updated_at, ${TRACK_COLUMNS}`;

/**
 * One page (1-based) of the library's finished uploads, by upload id: a stable order that a new upload
 * does not reshuffle much, and that a scan can walk with OFFSET. (Funkwhale lists newest first; a
 * follower must not depend on either.)
 */
export async function libraryAudioPage(db: pg.Pool, libraryId: string, page: number): Promise<LibraryAudioRow[]> {
  const { rows } = await db.query<LibraryAudioRow>(
    // The page's ids first: the credits' subqueries then run for its 50 rows, not for every upload of
    // the library before the sort (147 -> 2.3 ms at the last page of 10,000 tracks, with the index of migration 0019).
    `WITH page AS (SELECT u.id FROM upload u WHERE u.library_id = $1 AND ${finishedCopySql("u")} ORDER BY u.id LIMIT $2 OFFSET $3)
     SELECT ${AUDIO_COLUMNS}
     FROM page JOIN upload u ON u.id = page.id
     JOIN track t ON t.id = u.track_id
     JOIN album al ON al.id = t.album_id
     ORDER BY u.id`,
    [libraryId, LIBRARY_PAGE_SIZE, (page - 1) * LIBRARY_PAGE_SIZE],
  );
  return rows;
}
