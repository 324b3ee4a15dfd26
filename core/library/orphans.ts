import type { Queryable } from "../jobs/enqueue.ts";

/**
 * Removes catalog rows that lost their last upload: the given tracks when no upload points at them,
 * then their albums without tracks, then the artists nobody credits any more, then unused genres.
 * Run inside the transaction that deleted the uploads.
 */
export async function deleteOrphans(db: Queryable, trackIds: string[]): Promise<void> {
  if (trackIds.length === 0) return;
  // Credits vanish with their track or album, so note every artist involved first.
  const involved = await db.query(
    `SELECT t.artist_id AS id FROM track t WHERE t.id = ANY($1::uuid[])
     UNION SELECT a.album_artist_id FROM album a JOIN track t ON t.album_id = a.id WHERE t.id = ANY($1::uuid[])
     UNION SELECT c.artist_id FROM artist_credit c WHERE c.track_id = ANY($1::uuid[])
     UNION SELECT c.artist_id FROM artist_credit c JOIN track t ON t.album_id = c.album_id WHERE t.id = ANY($1::uuid[])`,
    [trackIds],
  );
  const removed = await db.query(
    `DELETE FROM track t WHERE t.id = ANY($1::uuid[])
       AND NOT EXISTS (SELECT 1 FROM upload u WHERE u.track_id = t.id)
     RETURNING t.album_id`,
    [trackIds],
  );
  if (removed.rows.length === 0) return;
  await db.query(
    `DELETE FROM album a WHERE a.id = ANY($1::uuid[]) AND NOT EXISTS (SELECT 1 FROM track t WHERE t.album_id = a.id)`,
    [(removed.rows as { album_id: string }[]).map((r) => r.album_id)],
  );
  await db.query(
    `DELETE FROM artist ar WHERE ar.id = ANY($1::uuid[])
       AND NOT EXISTS (SELECT 1 FROM track t WHERE t.artist_id = ar.id)
       AND NOT EXISTS (SELECT 1 FROM album a WHERE a.album_artist_id = ar.id)
       AND NOT EXISTS (SELECT 1 FROM artist_credit c WHERE c.artist_id = ar.id)`,
    [(involved.rows as { id: string }[]).map((r) => r.id)],
  );
  await db.query("DELETE FROM genre g WHERE NOT EXISTS (SELECT 1 FROM track_genre tg WHERE tg.genre_id = g.id)");
}
