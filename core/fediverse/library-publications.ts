import type pg from "pg";
import { enqueueJob } from "../jobs/enqueue.ts";
import { audiencesOf, followersOf } from "./follower-audiences.ts";
import { acceptedFollowersSql } from "./follows.queries.ts";

// Live sync, outbound: what happens to a local library's audio is told to its accepted followers by a
// `publish_library` job enqueued in the transaction that made the change (it commits or rolls back with
// it; an HTTP handler never delivers). Libraries without followers cost one indexed lookup, no job.

export const PUBLISH_TASK = "publish_library";

/** Where to deliver when the follows themselves are gone (a deleted library's follows cascade). */
export interface PublicationRecipient {
  id: string;
  inbox: string | null;
  sharedInbox: string | null;
}

export type Publication =
  | { libraryId: string; kind: "create" | "update" | "delete"; uploadIds: string[] }
  | { libraryId: string; kind: "update-library" }
  /** `recipients`: library peers (Delete(Library)); `microblogRecipients`: the others (Delete of the actor). */
  | { libraryId: string; kind: "delete-library"; actorUsername: string; recipients: PublicationRecipient[]; microblogRecipients?: PublicationRecipient[] };

/** Activities per job (and per Delete): a bulk deletion of thousands is delivered in slices. */
const UPLOADS_PER_JOB = 100;

/** The local libraries among `libraryIds` with at least one accepted follower. */
async function followedLocalLibraries(db: pg.PoolClient, libraryIds: string[]): Promise<Set<string>> {
  if (!libraryIds.length) return new Set();
  const { rows } = await db.query<{ id: string }>(
    `SELECT l.id FROM library l WHERE l.id = ANY($1::uuid[]) AND l.owner_id IS NOT NULL
       AND EXISTS (SELECT 1 FROM ${acceptedFollowersSql("l.id", "remote")})`,
    [[...new Set(libraryIds)]],
  );
  return new Set(rows.map((row) => row.id));
}

/**
 * Queues Create/Update/Delete(Audio) for these uploads (finished ones, or ones just deleted), grouped by
 * library, for libraries that have followers. Call inside the transaction that made the change.
 */
export async function publishUploads(db: pg.PoolClient, kind: "create" | "update" | "delete", uploads: { id: string; library_id: string }[]): Promise<void> {
  const followed = await followedLocalLibraries(db, uploads.map((u) => u.library_id));
  for (const libraryId of followed) {
    const ids = uploads.filter((u) => u.library_id === libraryId).map((u) => u.id);
    for (let start = 0; start < ids.length; start += UPLOADS_PER_JOB) {
      await enqueuePublication(db, { libraryId, kind, uploadIds: ids.slice(start, start + UPLOADS_PER_JOB) });
    }
  }
}

/** Queues Update(Library) after a change of name, description or privacy. */
export async function publishLibraryUpdate(db: pg.PoolClient, libraryId: string): Promise<void> {
  if ((await followedLocalLibraries(db, [libraryId])).size) await enqueuePublication(db, { libraryId, kind: "update-library" });
}

/**
 * Queues Delete(Library) to the accepted followers that sync it, and Delete of its actor to microblog
 * followers (Mastodon ignores a Delete of a collection; it removes the account on Delete of the actor),
 * read now: call in the deleting transaction BEFORE the library row goes (its follows go with it).
 */
export async function publishLibraryDeletion(db: pg.PoolClient, libraryId: string): Promise<void> {
  const { peers, microblog } = await audiencesOf(db, { kind: "library", id: libraryId });
  if (!peers.length && !microblog.length) return;
  const { rows } = await db.query<{ username: string }>("SELECT la.username FROM library l JOIN actor la ON la.id = l.actor_id WHERE l.id = $1", [libraryId]);
  await enqueuePublication(db, { libraryId, kind: "delete-library", actorUsername: rows[0]!.username, recipients: peers, microblogRecipients: microblog });
}

function enqueuePublication(db: pg.PoolClient, publication: Publication): Promise<void> {
  // One queue per library: its activities go out in the order they happened (a Create before its Delete).
  return enqueueJob(db, PUBLISH_TASK, publication, { queueName: `publish:${publication.libraryId}` });
}

/**
 * A library's accepted followers on servers that sync libraries (or whose software is unknown), as
 * delivery recipients of its Audio activities. Microblog followers get Notes instead (album-announcements.ts):
 * Mastodon would turn each Create(Audio) into a post of its own.
 */
export function libraryFollowers(db: pg.Pool, libraryId: string): Promise<PublicationRecipient[]> {
  return followersOf(db, { kind: "library", id: libraryId }, "peers");
}
