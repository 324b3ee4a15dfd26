import { createHash } from "node:crypto";
import type pg from "pg";
import { visibleItemSql } from "../catalog/user-data.service.ts";
import { visibleLibrariesSql } from "../library/access.ts";
import type { UploadRow } from "../library/uploads.service.ts";

// Reads the Subsonic API needs beyond core/catalog: folders, album artists, covers and the copy a
// listener hears.

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
         WHERE t.album_id = a.id AND u.status = 'finished' AND u.library_id = $2)`
    : "";
  const { rows } = await pool.query<{ id: string }>(
    `SELECT ar.id FROM artist ar WHERE EXISTS (SELECT 1 FROM album a WHERE a.album_artist_id = ar.id
       AND ${visibleItemSql("albums", "a", "$1")} ${inLibrary}) ORDER BY ar.normalized_name, ar.id`,
    libraryId ? [viewerId, libraryId] : [viewerId],
  );
  return rows.map((r) => r.id);
}

/** The cover hash of a visible album; undefined when the album is unknown or hidden, null without art. */
export async function albumCoverHash(pool: pg.Pool, albumId: string, viewerId: string): Promise<string | null | undefined> {
  const { rows } = await pool.query<{ cover_hash: string | null }>({
    name: "subsonic-album-cover", // prepared once per connection: planning cost more than running
    text: `SELECT a.cover_hash FROM album a WHERE a.id = $2 AND ${visibleItemSql("albums", "a", "$1")}`,
    values: [viewerId, albumId],
  });
  return rows[0] ? rows[0].cover_hash : undefined;
}

/** The copy of a track the caller hears: visible, finished, lossless first, then the highest bitrate. */
export async function bestUpload(pool: pg.Pool, trackId: string, viewerId: string): Promise<UploadRow | undefined> {
  const { rows } = await pool.query<UploadRow>({
    name: "subsonic-best-upload", // prepared once per connection: planning cost more than running
    text: `SELECT u.* FROM upload u JOIN library l ON l.id = u.library_id
     WHERE u.track_id = $1 AND u.status = 'finished' AND ${visibleLibrariesSql("l", "$2")}
     ORDER BY u.lossless DESC NULLS LAST, u.bitrate DESC NULLS LAST, u.created_at LIMIT 1`,
    values: [trackId, viewerId],
  });
  return rows[0];
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
