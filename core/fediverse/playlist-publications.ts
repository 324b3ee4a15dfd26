import type pg from "pg";
import { enqueueJob } from "../jobs/enqueue.ts";
import { audiencesOf, followersOf, hasFollowers } from "./follower-audiences.ts";
import type { PublicationRecipient } from "./library-publications.ts";
import { ITEMS_PER_NOTE } from "./playlist-announcements.ts";
import { hasGoneNotes } from "./sent-notes.ts";

// Live sync of followed playlists, outbound (issue 17, points 1 and 3). Any change of a local playlist's
// items (added, removed, moved, cleared) or of its name is told to its followers on library servers as one
// Update(Playlist): they read the playlist again (as Funkwhale 2.0 does on Update(Playlist), instead of
// per-item activities), which is idempotent and cannot drift out of order. Its microblog followers
// (Mastodon) get a post (Create(Note)) for the items an edit added instead, and nothing of the Update, and
// its Delete once the item naming it is removed.
// Deleting it, or making it private, sends Delete(Playlist) to the former and Delete of its actor to the
// latter, and ends the follows. Jobs are queued in the transaction that made the change; a playlist
// without followers costs one indexed lookup.

export const PUBLISH_PLAYLIST_TASK = "publish_playlist";

export type PlaylistPublication =
  | { playlistId: string; kind: "update" }
  /** Its name, description or privacy changed: microblog followers get its actor again. */
  | { playlistId: string; kind: "profile" }
  /** The items an edit added (the first ITEMS_PER_NOTE) and how many it added. */
  | { playlistId: string; kind: "notes"; itemIds: string[]; added: number }
  /** Items an edit removed named Notes: microblog followers get their Delete. */
  | { playlistId: string; kind: "note-deletions" }
  /** `recipients`: library peers (Delete(Playlist), from the owner); `microblogRecipients`: Delete of the playlist's actor. */
  | {
      playlistId: string;
      kind: "delete";
      ownerUsername: string;
      recipients: PublicationRecipient[];
      actorUsername?: string;
      microblogRecipients?: PublicationRecipient[];
    };

const playlist = (id: string) => ({ kind: "playlist", id }) as const;

/** Queues Update(Playlist) when the playlist has followers on library servers. Call in the transaction that changed it. */
export async function publishPlaylistUpdate(db: pg.PoolClient, playlistId: string): Promise<void> {
  if (await hasFollowers(db, playlist(playlistId), "peers")) await enqueue(db, { playlistId, kind: "update" });
}

/** Queues an Update of the playlist's actor for its microblog followers (a change of name, description or privacy). */
export async function publishPlaylistProfile(db: pg.PoolClient, playlistId: string): Promise<void> {
  if (await hasFollowers(db, playlist(playlistId), "microblog")) await enqueue(db, { playlistId, kind: "profile" });
}

/** Queues the post of these added items when the playlist has microblog followers. Call in the transaction that added them. */
export async function publishPlaylistAdditions(db: pg.PoolClient, playlistId: string, itemIds: string[]): Promise<void> {
  if (!itemIds.length || !(await hasFollowers(db, playlist(playlistId), "microblog"))) return;
  await enqueue(db, { playlistId, kind: "notes", itemIds: itemIds.slice(0, ITEMS_PER_NOTE), added: itemIds.length });
}

/** Queues the Delete of the Notes whose items an edit removed, when the playlist has microblog followers. Call in that transaction. */
export async function publishPlaylistNoteDeletions(db: pg.PoolClient, playlistId: string): Promise<void> {
  if (!(await hasGoneNotes(db, playlist(playlistId))) || !(await hasFollowers(db, playlist(playlistId), "microblog"))) return;
  await enqueue(db, { playlistId, kind: "note-deletions" });
}

/**
 * Queues Delete(Playlist) to its followers, read now, and ends every follow of it: call in the transaction
 * that deletes the playlist (BEFORE its row goes) or makes it private (a later share starts with no one).
 */
export async function publishPlaylistRemoval(db: pg.PoolClient, playlistId: string): Promise<void> {
  const { peers, microblog } = await audiencesOf(db, playlist(playlistId));
  await db.query("DELETE FROM follow WHERE playlist_id = $1", [playlistId]);
  if (!peers.length && !microblog.length) return;
  const { rows } = await db.query<{ ownerUsername: string; actorUsername: string }>(
    `SELECT oa.username AS "ownerUsername", pa.username AS "actorUsername"
     FROM playlist p JOIN actor pa ON pa.id = p.actor_id JOIN app_user o ON o.id = p.owner_id JOIN actor oa ON oa.id = o.actor_id WHERE p.id = $1`,
    [playlistId],
  );
  const { ownerUsername, actorUsername } = rows[0]!;
  await enqueue(db, { playlistId, kind: "delete", ownerUsername, recipients: peers, actorUsername, microblogRecipients: microblog });
}

/** The accepted followers on library servers, and the owner's actor (it signs: the playlist's own may be private or gone). */
export async function playlistAudience(db: pg.Pool, playlistId: string): Promise<{ ownerUsername: string; recipients: PublicationRecipient[] } | null> {
  const owner = await db.query<{ username: string }>(
    "SELECT oa.username FROM playlist p JOIN app_user o ON o.id = p.owner_id JOIN actor oa ON oa.id = o.actor_id WHERE p.id = $1",
    [playlistId],
  );
  if (!owner.rows[0]) return null;
  return { ownerUsername: owner.rows[0].username, recipients: await followersOf(db, playlist(playlistId), "peers") };
}

function enqueue(db: pg.PoolClient, publication: PlaylistPublication): Promise<void> {
  // One queue per playlist: its activities go out in the order they happened. Updates (and Note deletions,
  // worked out when the job runs) waiting together say the same thing, so a burst of edits sends one;
  // each edit's post is its own.
  const jobKey = ["update", "profile", "note-deletions"].includes(publication.kind) ? `${PUBLISH_PLAYLIST_TASK}:${publication.kind}:${publication.playlistId}` : undefined;
  return enqueueJob(db, PUBLISH_PLAYLIST_TASK, publication, { queueName: `publish-playlist:${publication.playlistId}`, ...(jobKey ? { jobKey } : {}) });
}
