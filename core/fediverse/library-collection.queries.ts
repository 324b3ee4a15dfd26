import type { EntityManager } from "@mikro-orm/core";
import type pg from "pg";
import { finishedCopySql } from "../catalog/catalog-read.ts";

// What a local library's federated collection lists: its finished uploads, each with the track, album
// and artist credits Funkwhale reads. Only libraries anyone may see: a private or instance library's
// pages will go to signed requests from accepted followers (authorized fetch), which does not exist
// yet, so for now they answer as if missing.

/** Funkwhale's own page size (federation__collection_page_size). */
export const LIBRARY_PAGE_SIZE = 50;

export interface LibraryCollectionHead {
  id: string;
  name: string;
  description: string;
  /** The library's own actor (its followers collection addresses Create/Delete(Audio)). */
  actorFid: string;
  followersUrl: string;
  /** The owner's person actor, the library's attributedTo. */
  ownerFid: string;
  /** Finished uploads. */
  totalItems: number;
}

export interface ArtistCreditRow {
  credit_id: string;
  id: string;
  created_at: string;
  name: string;
  mbid: string | null;
  credited_name: string;
  join_phrase: string;
}

export interface LibraryAudioRow {
  upload_id: string;
  mime_type: string | null;
  size: string;
  duration_ms: number | null;
  bitrate: number | null;
  created_at: Date | string;
  updated_at: Date | string;
  track_id: string;
  track_title: string;
  track_number: number | null;
  disc_number: number | null;
  track_mbid: string | null;
  track_created_at: Date | string;
  album_id: string;
  album_title: string;
  album_mbid: string | null;
  release_date: string | null;
  year: number | null;
  cover_hash: string | null;
  album_created_at: Date | string;
  track_credits: ArtistCreditRow[];
  album_credits: ArtistCreditRow[];
}

/** The public local library `libraryId` with its count of finished uploads; null when missing or not public. */
export async function findPublicLibraryCollection(db: pg.Pool, libraryId: string): Promise<LibraryCollectionHead | null> {
  const { rows } = await db.query<Omit<LibraryCollectionHead, "totalItems"> & { totalItems: string }>(
    `SELECT l.id, l.name, l.description, la.fid AS "actorFid", la.followers_url AS "followersUrl", oa.fid AS "ownerFid",
            (SELECT count(*) FROM upload u WHERE u.library_id = l.id AND ${finishedCopySql("u")}) AS "totalItems"
     FROM library l
     JOIN actor la ON la.id = l.actor_id
     JOIN app_user o ON o.id = l.owner_id
     JOIN actor oa ON oa.id = o.actor_id
     WHERE l.id = $1 AND l.owner_id IS NOT NULL AND l.privacy = 'public'`,
    [libraryId],
  );
  const row = rows[0];
  return row ? { ...row, totalItems: Number(row.totalItems) } : null;
}

/** The library of a local library actor, or null (another kind of actor, or a deleted library). */
export async function libraryIdOfActor(em: EntityManager, actorId: string): Promise<string | null> {
  const rows = await em.getConnection().execute<{ id: string }[]>("SELECT id FROM library WHERE actor_id = ? AND owner_id IS NOT NULL", [actorId]);
  return rows[0]?.id ?? null;
}

/** The library of a local library actor and its owner's person actor (its attributedTo), or null. */
export async function libraryOfActor(em: EntityManager, actorId: string): Promise<{ id: string; ownerFid: string } | null> {
  const rows = await em.getConnection().execute<{ id: string; ownerFid: string }[]>(
    `SELECT l.id, oa.fid AS "ownerFid" FROM library l JOIN app_user o ON o.id = l.owner_id JOIN actor oa ON oa.id = o.actor_id
     WHERE l.actor_id = ?`,
    [actorId],
  );
  return rows[0] ?? null;
}

/** An ordered credit list (track or album) as JSON, each with its artist. */
const creditsSql = (column: "track_id" | "album_id", owner: string) =>
  `(SELECT coalesce(json_agg(json_build_object('credit_id', c.id, 'id', a.id, 'created_at', a.created_at, 'name', a.name, 'mbid', a.mbid,
             'credited_name', c.credited_name, 'join_phrase', c.join_phrase) ORDER BY c.position), '[]')
    FROM artist_credit c JOIN artist a ON a.id = c.artist_id WHERE c.${column} = ${owner})`;

/**
 * One page (1-based) of the library's finished uploads, by upload id: a stable order that a new upload
 * does not reshuffle much, and that a scan can walk with OFFSET. (Funkwhale lists newest first; a
 * follower must not depend on either.)
 */
export async function libraryAudioPage(db: pg.Pool, libraryId: string, page: number): Promise<LibraryAudioRow[]> {
  const { rows } = await db.query<LibraryAudioRow>(
    `SELECT u.id AS upload_id, u.mime_type, u.size, u.duration_ms, u.bitrate, u.created_at, u.updated_at,
            t.id AS track_id, t.title AS track_title, t.track_number, t.disc_number, t.mbid AS track_mbid,
            t.created_at AS track_created_at,
            al.id AS album_id, al.title AS album_title, al.mbid AS album_mbid, al.release_date, al.year, al.cover_hash,
            al.created_at AS album_created_at,
            ${creditsSql("track_id", "t.id")} AS track_credits,
            ${creditsSql("album_id", "al.id")} AS album_credits
     FROM upload u
     JOIN track t ON t.id = u.track_id
     JOIN album al ON al.id = t.album_id
     WHERE u.library_id = $1 AND ${finishedCopySql("u")}
     ORDER BY u.id
     LIMIT $2 OFFSET $3`,
    [libraryId, LIBRARY_PAGE_SIZE, (page - 1) * LIBRARY_PAGE_SIZE],
  );
  return rows;
}
