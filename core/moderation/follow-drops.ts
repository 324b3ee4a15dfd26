import type pg from "pg";
import { notifyFollowEvent } from "../fediverse/follow-events.ts";
import { dropUnfollowedContent } from "../fediverse/follows.queries.ts";
import type { UploadsService } from "../library/uploads.service.ts";

// Follows a block ends, in the blocking transaction, without telling the other side (nothing is delivered
// to a blocked server; a blocked actor is not told either). The people concerned are told live.

/**
 * Deletes the follows of our libraries and playlists by remote actors (`a`) matching `where` (SQL over
 * `a` and follow `f`, with `params`); each library's owner is told. Returns how many went.
 */
export async function dropFollowers(tx: pg.PoolClient, where: string, params: unknown[]): Promise<number> {
  const { rows } = await tx.query<{ id: string; libraryId: string | null; ownerId: string | null }>(
    `DELETE FROM follow f USING actor a WHERE f.follower_id = a.id AND NOT a.is_local AND ${where}
     RETURNING f.id, f.library_id AS "libraryId", (SELECT owner_id FROM library WHERE id = f.library_id) AS "ownerId"`,
    params,
  );
  for (const row of rows) {
    if (row.libraryId && row.ownerId) {
      await notifyFollowEvent(tx, row.ownerId, { id: row.id, libraryId: row.libraryId, side: "follower", state: "removed" });
    }
  }
  return rows.length;
}

/**
 * Deletes our people's follows (`fa`, their actor) of remote libraries (`l`) whose speaking actor (`la`)
 * matches `where`; what nobody here may see any more goes with them. Returns how many went.
 */
export async function dropFollowing(tx: pg.PoolClient, uploads: UploadsService, where: string, params: unknown[]): Promise<number> {
  const { rows } = await tx.query<{ id: string; libraryId: string; userId: string }>(
    `DELETE FROM follow f USING library l, actor la, actor fa, app_user u
     WHERE f.library_id = l.id AND l.owner_id IS NULL AND la.id = l.actor_id
       AND fa.id = f.follower_id AND fa.is_local AND u.actor_id = fa.id AND ${where}
     RETURNING f.id, f.library_id AS "libraryId", u.id AS "userId"`,
    params,
  );
  for (const libraryId of new Set(rows.map((row) => row.libraryId))) await dropUnfollowedContent(tx, uploads, libraryId);
  for (const row of rows) await notifyFollowEvent(tx, row.userId, { id: row.id, libraryId: row.libraryId, side: "following", state: "removed" });
  return rows.length;
}
