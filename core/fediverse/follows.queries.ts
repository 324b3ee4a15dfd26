import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { Queryable } from "../jobs/enqueue.ts";
import type { UploadsService } from "../library/uploads.service.ts";
import type { DeliveryTarget } from "./follow-publisher.ts";
import type { LibraryPreview } from "./library-lookup.ts";

// The SQL both sides of the follow flow share (`follow` is written with plain SQL: migration 0016).

export type FollowState = "pending" | "accepted" | "rejected";

/** A local person's actor, with what signs their requests. */
export interface PersonActor {
  id: string;
  fid: string;
  username: string;
  rsaPrivateJwk: JsonWebKey | null;
}

export async function personActorOf(db: Queryable, userId: string): Promise<PersonActor> {
  const { rows } = await db.query(
    `SELECT a.id, a.fid, a.username, a.rsa_private_jwk AS "rsaPrivateJwk"
     FROM app_user u JOIN actor a ON a.id = u.actor_id WHERE u.id = $1`,
    [userId],
  );
  if (!rows[0]) throw new Error(`user ${userId} has no actor`);
  return rows[0] as PersonActor;
}

/** Columns of an actor (alias `alias`) to deliver to. */
export const deliveryColumns = (alias: string) =>
  `${alias}.fid AS "${alias}Fid", ${alias}.inbox_url AS "${alias}Inbox", ${alias}.shared_inbox_url AS "${alias}SharedInbox"`;

export function deliveryTarget(row: Record<string, unknown>, alias: string): DeliveryTarget {
  return {
    fid: row[`${alias}Fid`] as string,
    inboxUrl: (row[`${alias}Inbox`] as string | null) ?? null,
    sharedInboxUrl: (row[`${alias}SharedInbox`] as string | null) ?? null,
  };
}

/**
 * The remote library `preview` names, created or refreshed (name, description, the actor speaking for
 * it); returns its id. Remote libraries are private: only their accepted followers see them.
 */
export async function upsertRemoteLibrary(tx: pg.PoolClient, preview: Pick<LibraryPreview, "fid" | "name" | "summary">, speakerId: string): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO library (id, owner_id, actor_id, fid, name, description, privacy)
     VALUES ($1, NULL, $2, $3, $4, $5, 'private')
     ON CONFLICT (fid) DO UPDATE SET actor_id = EXCLUDED.actor_id, name = EXCLUDED.name,
       description = EXCLUDED.description, updated_at = now()
     WHERE library.owner_id IS NULL
     RETURNING id`,
    [randomUUID(), speakerId, preview.fid, preview.name, (preview.summary ?? "").slice(0, 5000)],
  );
  if (!rows[0]) throw new Error(`library ${preview.fid} is a local one`);
  return rows[0].id;
}

/**
 * SQL FROM ... WHERE of the accepted follows `f` of library `library` (an SQL expression) with their
 * followers' actors `a`: "local", the actors here following a remote library, who make it visible and
 * sign our reads of it: people (their user `u`) and the instance actor (instance follows; `u` is null);
 * "remote", the actors on other servers following one of ours, whom its changes are delivered to.
 */
export function acceptedFollowersSql(library: string, who: "local" | "remote"): string {
  // A remote library also serves the followers of the remote playlists whose audio it holds.
  return who === "local"
    ? `follow f JOIN actor a ON a.id = f.follower_id AND a.is_local LEFT JOIN app_user u ON u.actor_id = a.id
       WHERE ${followsOfRemoteLibrarySql("f", library)} AND f.state = 'accepted' AND (u.id IS NOT NULL OR a.represents = 'instance')`
    : `follow f JOIN actor a ON a.id = f.follower_id AND NOT a.is_local WHERE f.library_id = ${library} AND f.state = 'accepted'`;
}

/** SQL condition: follow `f` is of remote library `library`, or of a remote playlist whose audio it holds. */
export const followsOfRemoteLibrarySql = (f: string, library: string) =>
  `(${f}.library_id = ${library} OR ${f}.playlist_id IN (SELECT fp.id FROM playlist fp WHERE fp.library_id = ${library}))`;

/**
 * What a remote library keeps here once nobody follows it any more: without an accepted follower its
 * copies (uploads, and the catalog rows they alone held) go, as nobody may see them; without any
 * follow at all (none pending either) the library row goes too. Runs in the caller's transaction.
 */
export async function dropUnfollowedContent(tx: pg.PoolClient, uploads: UploadsService, libraryId: string): Promise<void> {
  // Locked first: a follow being added meanwhile is either counted here or finds the library gone.
  const locked = await tx.query("SELECT 1 FROM library WHERE id = $1 AND owner_id IS NULL FOR UPDATE", [libraryId]);
  if (!locked.rowCount) return;
  const { rows } = await tx.query<{ accepted: number; total: number }>(
    `SELECT count(*) FILTER (WHERE state = 'accepted')::int AS accepted, count(*)::int AS total FROM follow f
     WHERE ${followsOfRemoteLibrarySql("f", "$1")}`,
    [libraryId],
  );
  const { accepted, total } = rows[0]!;
  if (accepted > 0) return;
  await uploads.deleteOfLibrary(libraryId, tx);
  if (total === 0) await tx.query("DELETE FROM library WHERE id = $1", [libraryId]);
}
