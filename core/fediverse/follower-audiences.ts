import type { Queryable } from "../jobs/enqueue.ts";
import type { PublicationRecipient } from "./library-publications.ts";

// Who hears of a local library's or playlist's changes, split by what their server understands: library
// peers (Polyphony, Funkwhale) sync the collection (Audio, Library, Playlist activities); microblog
// followers (Mastodon and the software that speaks like it) see posts (Create(Note)), the actor's profile
// (Update of the actor) and its end (Delete of the actor). A server whose NodeInfo we could not read is
// taken for a library peer (the sync must not break for want of a NodeInfo).

/** Software that syncs libraries; any other (known) software is a microblog. */
export const LIBRARY_SOFTWARE = ["polyphony", "funkwhale"];

/** SQL condition: actor `alias` lives on a server known to run a microblog rather than a library peer. */
export const microblogActorSql = (alias: string) =>
  `EXISTS (SELECT 1 FROM domain md WHERE md.name = ${alias}.domain AND md.software_name IS NOT NULL
            AND md.software_name <> ALL (ARRAY['${LIBRARY_SOFTWARE.join("','")}']))`;

/** A local library or playlist that remote actors follow. */
export interface FollowedCollection {
  kind: "library" | "playlist";
  id: string;
}

export type Audience = "peers" | "microblog";

/** SQL FROM ... WHERE of the accepted followers `a` on other servers of local collection `param` (an SQL expression). */
export const remoteFollowersSql = (kind: FollowedCollection["kind"], param: string) =>
  `follow f JOIN actor a ON a.id = f.follower_id AND NOT a.is_local WHERE f.${kind}_id = ${param} AND f.state = 'accepted'`;

/** SQL columns of follower `a` as a PublicationRecipient. */
export const RECIPIENT_COLUMNS = `a.fid AS id, a.inbox_url AS inbox, a.shared_inbox_url AS "sharedInbox"`;

const audienceSql = (audience: Audience) => (audience === "microblog" ? microblogActorSql("a") : `NOT ${microblogActorSql("a")}`);

/** The collection's accepted followers elsewhere of one audience, as delivery recipients. */
export async function followersOf(db: Queryable, target: FollowedCollection, audience: Audience): Promise<PublicationRecipient[]> {
  const { rows } = await db.query(
    `SELECT ${RECIPIENT_COLUMNS} FROM ${remoteFollowersSql(target.kind, "$1")} AND ${audienceSql(audience)}`,
    [target.id],
  );
  return rows as PublicationRecipient[];
}

/** Whether the collection has an accepted follower elsewhere of this audience (one indexed lookup). */
export async function hasFollowers(db: Queryable, target: FollowedCollection, audience: Audience): Promise<boolean> {
  const { rowCount } = await db.query(`SELECT 1 FROM ${remoteFollowersSql(target.kind, "$1")} AND ${audienceSql(audience)} LIMIT 1`, [target.id]);
  return Boolean(rowCount);
}

/**
 * Both audiences at once, read before the follows go (a deletion: they cascade with the row, or a
 * playlist made private: they are ended), for the job that tells them afterwards.
 */
export async function audiencesOf(db: Queryable, target: FollowedCollection): Promise<Record<Audience, PublicationRecipient[]>> {
  const { rows } = await db.query(
    `SELECT ${RECIPIENT_COLUMNS}, ${microblogActorSql("a")} AS microblog FROM ${remoteFollowersSql(target.kind, "$1")}`,
    [target.id],
  );
  const split: Record<Audience, PublicationRecipient[]> = { peers: [], microblog: [] };
  for (const { microblog, ...recipient } of rows as (PublicationRecipient & { microblog: boolean })[]) {
    split[microblog ? "microblog" : "peers"].push(recipient);
  }
  return split;
}
