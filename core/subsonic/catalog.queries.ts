import { createHash } from "node:crypto";
import type pg from "pg";
import { finishedCopySql, visibleItemSql, visibleLibrariesSql } from "../catalog/catalog-read.ts";

// Reads the Subsonic API needs beyond core/catalog: folders and album artists.

/**
 * Subsonic's musicFolder.id is an int (strict clients reject strings), our library ids are UUIDs and
 * the library table is not ours to change: the id is the first 31 bits of SHA-256(uuid), stable
 * forever and computed both ways (a request's musicFolderId is matched against visible libraries).
 */
export function musicFolderId(libraryId: string): number {
  return createHash("sha256").update(libraryId).digest().readUInt32BE(0) & 0x7fffffff;
}

export async function visibleLibraries(pool: pg.Pool, viewerId: string): Promise<{ id: string; name: string; folderId: number }[]> {
  const { rows } = await pool.query<{ id: string; name: string }>(
    `SELECT l.id, l.name FROM library l WHERE ${visibleLibrariesSql("l", "$1")} ORDER BY l.name, l.id`,
    [viewerId],
  );
  return rows.map((r) => ({ ...r, folderId: musicFolderId(r.id) }));
}

/**
 * What getArtists' index depends on besides the request: the libraries the viewer sees (sorted ids) and
 * the catalog generation (migrations/0009-catalog-browse.sql), read in one statement.
 */
export async function artistIndexVersion(pool: pg.Pool, viewerId: string): Promise<{ libraries: string[]; generation: string }> {
  const { rows } = await pool.query<{ libraries: string[]; generation: string }>(
    `SELECT ARRAY(SELECT l.id FROM library l WHERE ${visibleLibrariesSql("l", "$1")} ORDER BY l.id) AS libraries,
       (SELECT value FROM catalog_generation) AS generation`,
    [viewerId],
  );
  return rows[0]!;
}

/** The artists one user starred or rated, for the per-user fields of a shared artist list. */
export async function artistUserData(pool: pg.Pool, viewerId: string): Promise<Map<string, { starredAt?: string; rating?: number }>> {
  const { rows } = await pool.query<{ artist_id: string; starred_at: string | null; rating: number | null }>(
    `SELECT coalesce(f.artist_id, r.artist_id) AS artist_id, f.created_at AS starred_at, r.rating
     FROM (SELECT artist_id, created_at FROM favorite WHERE user_id = $1 AND artist_id IS NOT NULL) f
     FULL JOIN (SELECT artist_id, rating FROM rating WHERE user_id = $1 AND artist_id IS NOT NULL) r ON r.artist_id = f.artist_id`,
    [viewerId],
  );
  return new Map(rows.map((r) => [r.artist_id, {
    ...(r.starred_at ? { starredAt: new Date(r.starred_at).toISOString() } : {}),
    ...(r.rating !== null ? { rating: r.rating } : {}),
  }]));
}

/** Album artists with a visible album (optionally in one library), by name. */
export async function albumArtistIds(pool: pg.Pool, viewerId: string, libraryId?: string): Promise<string[]> {
  const inLibrary = libraryId
    ? `AND EXISTS (SELECT 1 FROM track t JOIN upload u ON u.track_id = t.id
         WHERE t.album_id = a.id AND ${finishedCopySql("u")} AND u.library_id = $2)` // $2: one of visibleLibraries' ids
    : "";
  const { rows } = await pool.query<{ id: string }>(
    `SELECT ar.id FROM artist ar WHERE EXISTS (SELECT 1 FROM album a WHERE a.album_artist_id = ar.id
       AND ${visibleItemSql("albums", "a", "$1")} ${inLibrary}) ORDER BY ar.normalized_name, ar.id`,
    libraryId ? [viewerId, libraryId] : [viewerId],
  );
  return rows.map((r) => r.id);
}

/**
 * getIndexes' lastModified (ms): the latest upload change or scan in the visible libraries (or one).
 * Deleted uploads leave no row behind, so a deletion shows at the library's next change or scan.
 */
export async function catalogLastModified(pool: pg.Pool, viewerId: string, libraryId?: string): Promise<number> {
  const { rows } = await pool.query<{ at: string | null }>(
    `SELECT greatest(
       (SELECT max(u.updated_at) FROM upload u JOIN library l ON l.id = u.library_id
          WHERE ${visibleLibrariesSql("l", "$1")} AND ($2::uuid IS NULL OR l.id = $2)),
       (SELECT max(greatest(l.updated_at, l.last_scan_at)) FROM library l
          WHERE ${visibleLibrariesSql("l", "$1")} AND ($2::uuid IS NULL OR l.id = $2))) AS at`,
    [viewerId, libraryId ?? null],
  );
  return rows[0]?.at ? new Date(rows[0].at).getTime() : 0;
}
