import type pg from "pg";
import { visibleItemSql } from "../catalog/catalog-read.ts";
import { normalizeName } from "../library/normalize.ts";

// getTopSongs and getArtistInfo(2) from what this instance knows; nothing is fetched from the internet.

/**
 * Songs of the artist(s) with this name (as track artist or credited), visible to the viewer, most
 * played first across everyone on the instance, then by title.
 */
export async function topTrackIds(pool: pg.Pool, viewerId: string, artistName: string, count: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `WITH named AS (SELECT id FROM artist WHERE normalized_name = $2)
     SELECT t.id FROM track t
     WHERE (t.artist_id IN (SELECT id FROM named)
            OR EXISTS (SELECT 1 FROM artist_credit c WHERE c.track_id = t.id AND c.artist_id IN (SELECT id FROM named)))
       AND ${visibleItemSql("tracks", "t", "$1")}
     ORDER BY (SELECT coalesce(sum(ps.play_count), 0) FROM play_stat ps WHERE ps.track_id = t.id) DESC, t.normalized_title, t.id
     LIMIT $3`,
    [viewerId, normalizeName(artistName), count],
  );
  return rows.map((r) => r.id);
}

/** Other album artists whose visible songs share genres with this artist's, most shared genres first. */
export async function similarArtistIds(pool: pg.Pool, viewerId: string, artistId: string, count: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `WITH genres AS (
       SELECT DISTINCT tg.genre_id FROM track t JOIN album a ON a.id = t.album_id JOIN track_genre tg ON tg.track_id = t.id
       WHERE (t.artist_id = $2 OR a.album_artist_id = $2) AND ${visibleItemSql("tracks", "t", "$1")})
     SELECT ar.id FROM artist ar JOIN album a ON a.album_artist_id = ar.id JOIN track t ON t.album_id = a.id
       JOIN track_genre tg ON tg.track_id = t.id
     WHERE tg.genre_id IN (SELECT genre_id FROM genres) AND ar.id <> $2 AND ${visibleItemSql("tracks", "t", "$1")}
     GROUP BY ar.id, ar.normalized_name ORDER BY count(DISTINCT tg.genre_id) DESC, ar.normalized_name, ar.id
     LIMIT $3`,
    [viewerId, artistId, count],
  );
  return rows.map((r) => r.id);
}
