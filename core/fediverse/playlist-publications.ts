import type pg from "pg";
import { enqueueJob } from "../jobs/enqueue.ts";
import type { PublicationRecipient } from "./library-publications.ts";

// Live sync of followed playlists, outbound (issue 17, point 1). Any change of a local playlist's items
// (added, removed, moved, cleared) or of its name is told to its followers on other servers as one
// Update(Playlist): they read the playlist again (as Funkwhale 2.0 does on Update(Playlist), instead of
// per-item activities), which is idempotent and cannot drift out of order. Deleting it, or making it
// private, sends Delete(Playlist) and ends the follows. Jobs are queued in the transaction that made the
// change; a playlist without followers costs one indexed lookup.

export const PUBLISH_PLAYLIST_TASK = "publish_playlist";

export type PlaylistPublication =
  | { playlistId: string; kind: "update" }
  | { playlistId: string; kind: "delete"; ownerUsername: string; recipients: PublicationRecipient[] };

/** SQL FROM ... WHERE of the accepted followers `a` on other servers of local playlist `playlist`. */
const remoteFollowersSql = (playlist: string) =>
  `follow f JOIN actor a ON a.id = f.follower_id AND NOT a.is_local WHERE f.playlist_id = ${playlist} AND f.state = 'accepted'`;

/** Queues Update(Playlist) when the playlist has followers elsewhere. Call in the transaction that changed it. */
export async function publishPlaylistUpdate(db: pg.PoolClient, playlistId: string): Promise<void> {
  const { rowCount } = await db.query(`SELECT 1 FROM ${remoteFollowersSql("$1")} LIMIT 1`, [playlistId]);
  if (rowCount) await enqueue(db, { playlistId, kind: "update" });
}

/**
 * Queues Delete(Playlist) to its followers, read now, and ends every follow of it: call in the transaction
 * that deletes the playlist (BEFORE its row goes) or makes it private (a later share starts with no one).
 */
export async function publishPlaylistRemoval(db: pg.PoolClient, playlistId: string): Promise<void> {
  const { rows } = await db.query<PublicationRecipient & { ownerUsername: string }>(
    `SELECT a.fid AS id, a.inbox_url AS inbox, a.shared_inbox_url AS "sharedInbox",
            (SELECT oa.username FROM playlist p JOIN app_user o ON o.id = p.owner_id JOIN actor oa ON oa.id = o.actor_id WHERE p.id = $1) AS "ownerUsername"
     FROM ${remoteFollowersSql("$1")}`,
    [playlistId],
  );
  await db.query("DELETE FROM follow WHERE playlist_id = $1", [playlistId]);
  if (!rows.length) return;
  const recipients = rows.map(({ id, inbox, sharedInbox }) => ({ id, inbox, sharedInbox }));
  await enqueue(db, { playlistId, kind: "delete", ownerUsername: rows[0]!.ownerUsername, recipients });
}

/** The accepted followers elsewhere, and the owner's actor (it signs: the playlist's own may be private or gone). */
export async function playlistAudience(db: pg.Pool, playlistId: string): Promise<{ ownerUsername: string; recipients: PublicationRecipient[] } | null> {
  const owner = await db.query<{ username: string }>(
    "SELECT oa.username FROM playlist p JOIN app_user o ON o.id = p.owner_id JOIN actor oa ON oa.id = o.actor_id WHERE p.id = $1",
    [playlistId],
  );
  if (!owner.rows[0]) return null;
  const { rows } = await db.query<PublicationRecipient>(
    `SELECT a.fid AS id, a.inbox_url AS inbox, a.shared_inbox_url AS "sharedInbox" FROM ${remoteFollowersSql("$1")}`,
    [playlistId],
  );
  return { ownerUsername: owner.rows[0].username, recipients: rows };
}

function enqueue(db: pg.PoolClient, publication: PlaylistPublication): Promise<void> {
  // One queue per playlist: its activities go out in the order they happened. Updates waiting together
  // say the same thing (read me again), so a burst of edits sends one.
  const jobKey = publication.kind === "update" ? `${PUBLISH_PLAYLIST_TASK}:update:${publication.playlistId}` : undefined;
  return enqueueJob(db, PUBLISH_PLAYLIST_TASK, publication, { queueName: `publish-playlist:${publication.playlistId}`, ...(jobKey ? { jobKey } : {}) });
}
