import { randomUUID } from "node:crypto";
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { enqueueRemoteScan } from "./remote-scans.service.ts";
import type { UploadsService } from "../library/uploads.service.ts";
import { notifyFollowEvent } from "./follow-events.ts";
import type { DeliveryTarget, FollowActivity } from "./follow-publisher.ts";
import { dropUnfollowedContent, type FollowState } from "./follows.queries.ts";
import { LIBRARY_COLLECTION_PATH, objectUrls } from "./object-urls.ts";
import type { RemoteActors } from "./remote-actors.ts";
import { hasBlocked } from "../moderation/user-blocks.service.ts";

const log = getLogger(["polyphony", "fediverse", "follows"]);

/** What to answer a Follow with: Accept or Reject from the library's actor, or nothing yet (pending). */
export interface FollowReceipt {
  reply: "Accept" | "Reject" | null;
  /** The library actor's identifier, which signs the reply. */
  libraryActor: string;
  libraryActorFid: string;
  follower: DeliveryTarget;
  follow: FollowActivity;
}

interface LocalLibrary {
  id: string;
  ownerId: string;
  privacy: string;
  approveFollows: boolean;
  actorUsername: string;
  actorFid: string;
}

/**
 * The follow activities our inboxes receive, in the shapes Funkwhale sends (funkwhale-federation.md
 * §2.3). Owner side: Follow and Undo(Follow) of our libraries. Follower side: Accept and Reject of our
 * people's follows, matched by (follower, library) and the actor speaking for that library, never
 * by activity id, which Funkwhale rebuilds.
 */
export class FollowInbox {
  readonly #db: TransactionSource;
  readonly #actors: RemoteActors;
  readonly #uploads: UploadsService;
  readonly #origin: URL;

  constructor(deps: TransactionSource & { remoteActors: RemoteActors; uploads: UploadsService; publicUrl: URL }) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#actors = deps.remoteActors;
    this.#uploads = deps.uploads;
    this.#origin = deps.publicUrl;
  }

  /**
   * A Follow of `objectFid` (our Library collection, or the library's actor). A new follower is
   * accepted at once by a public library or one that does not approve follows, else waits for the
   * owner (told live). A Follow sent again keeps the state it had: its answer is sent again.
   * Null when it names none of our libraries.
   */
  async receiveFollow(activity: { fid: string | null; followerFid: string; objectFid: string }): Promise<FollowReceipt | null> {
    const library = await this.#localLibrary(activity.objectFid);
    if (!library) {
      log.debug("Follow of {object} names none of our libraries", { object: activity.objectFid });
      return null;
    }
    const follower = await this.#actors.resolve(activity.followerFid);
    if (follower.isLocal) return null;
    if (await hasBlocked(this.#db.pool, library.ownerId, follower.id)) {
      log.info("Follow of {object} by {follower}, whom its owner blocked: ignored", { object: activity.objectFid, follower: follower.fid });
      return null;
    }
    const auto = library.privacy === "public" || !library.approveFollows;
    const stored = await withTransaction(this.#db, async ({ sql: tx }) => {
      const fid = await freeFollowFid(tx, activity.fid, follower, library.id);
      const { rows } = await tx.query<{ id: string; fid: string; state: FollowState; inserted: boolean }>(
        `INSERT INTO follow (id, fid, follower_id, library_id, state) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (library_id, follower_id) DO UPDATE SET fid = EXCLUDED.fid, updated_at = now()
         RETURNING id, fid, state, (xmax = 0) AS inserted`,
        [randomUUID(), fid, follower.id, library.id, auto ? "accepted" : "pending"],
      );
      const row = rows[0]!;
      await notifyFollowEvent(tx, library.ownerId, { id: row.id, libraryId: library.id, side: "follower", state: row.state });
      return row;
    });
    return {
      reply: stored.state === "accepted" ? "Accept" : stored.state === "rejected" ? "Reject" : null,
      libraryActor: library.actorUsername,
      libraryActorFid: library.actorFid,
      follower,
      // The Follow as sent: Mastodon follows the library's actor and finds its follow request by that.
      follow: { fid: stored.fid, followerFid: follower.fid, objectFid: activity.objectFid === library.actorFid ? library.actorFid : objectUrls(this.#origin).library(library.id) },
    };
  }

  /** Undo(Follow) from the follower: the follow goes. */
  async receiveUndo(activity: { followerFid: string; objectFid: string }): Promise<boolean> {
    const library = await this.#localLibrary(activity.objectFid);
    if (!library) return false;
    return withTransaction(this.#db, async ({ sql: tx }) => {
      const { rows } = await tx.query<{ id: string }>(
        `DELETE FROM follow f USING actor a
         WHERE f.follower_id = a.id AND a.fid = $1 AND NOT a.is_local AND f.library_id = $2 RETURNING f.id`,
        [activity.followerFid, library.id],
      );
      if (rows[0]) await notifyFollowEvent(tx, library.ownerId, { id: rows[0].id, libraryId: library.id, side: "follower", state: "removed" });
      return rows.length > 0;
    });
  }

  /**
   * Accept or Reject of the follow of `objectFid` (a remote library) by our person `followerFid`, sent
   * by `senderFid`, which must be the actor speaking for that library. Accept enqueues the library's
   * scan in the same transaction; Reject (a refusal, or a revocation) drops what nobody may see now.
   */
  async receiveReply(kind: "Accept" | "Reject", activity: { senderFid: string; followerFid: string; objectFid: string }): Promise<boolean> {
    return withTransaction(this.#db, async ({ sql: tx }) => {
      // The follower is one of our people, or the instance actor (an instance follow: no user to tell).
      const { rows } = await tx.query<{ id: string; libraryId: string; userId: string | null }>(
        `SELECT f.id, f.library_id AS "libraryId", u.id AS "userId"
         FROM follow f
         JOIN actor fa ON fa.id = f.follower_id AND fa.is_local LEFT JOIN app_user u ON u.actor_id = fa.id
         JOIN library l ON l.id = f.library_id AND l.owner_id IS NULL JOIN actor la ON la.id = l.actor_id
         WHERE fa.fid = $1 AND l.fid = $2 AND la.fid = $3 AND (u.id IS NOT NULL OR fa.represents = 'instance')
         FOR UPDATE OF f`,
        [activity.followerFid, activity.objectFid, activity.senderFid],
      );
      const follow = rows[0];
      if (!follow) {
        log.info("{kind} from {sender} matches no follow of {object} by {follower}", { kind, sender: activity.senderFid, ...activity });
        return false;
      }
      const state = kind === "Accept" ? "accepted" : "rejected";
      await tx.query("UPDATE follow SET state = $2, updated_at = now() WHERE id = $1", [follow.id, state]);
      if (kind === "Accept") {
        // The follower who was accepted signs the scan's requests.
        await enqueueRemoteScan(tx, follow.libraryId, { requestedBy: follow.userId });
      } else {
        await dropUnfollowedContent(tx, this.#uploads, follow.libraryId);
      }
      if (follow.userId) await notifyFollowEvent(tx, follow.userId, { id: follow.id, libraryId: follow.libraryId, side: "following", state });
      return true;
    });
  }

  /** Our live library a Follow names: its Library collection's URL, or its actor's. */
  async #localLibrary(objectFid: string): Promise<LocalLibrary | null> {
    if (!URL.canParse(objectFid)) return null;
    const url = new URL(objectFid);
    if (url.origin !== this.#origin.origin) return null;
    const prefix = LIBRARY_COLLECTION_PATH.replace(":id", "");
    const id = url.pathname.startsWith(prefix) && !url.search ? url.pathname.slice(prefix.length) : null;
    const { rows } = await this.#db.pool.query<LocalLibrary>(
      `SELECT l.id, l.owner_id AS "ownerId", l.privacy, l.approve_follows AS "approveFollows",
              a.username AS "actorUsername", a.fid AS "actorFid"
       FROM library l JOIN actor a ON a.id = l.actor_id
       WHERE l.owner_id IS NOT NULL AND a.deleted_at IS NULL
         AND (l.id = (CASE WHEN $1 ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN $1 END)::uuid OR a.fid = $2)`,
      [id ?? "", objectFid],
    );
    return rows[0] ?? null;
  }
}

/**
 * The Follow's own id when it is the follower's (same server) and no other follow holds it; else one
 * made up under the follower's id. Another server's ids are not ours to trust, nor to collide with.
 */
async function freeFollowFid(tx: pg.PoolClient, fid: string | null, follower: { fid: string; id: string }, libraryId: string): Promise<string> {
  if (fid && URL.canParse(fid) && new URL(fid).origin === new URL(follower.fid).origin) {
    const { rowCount } = await tx.query("SELECT 1 FROM follow WHERE fid = $1 AND NOT (library_id = $2 AND follower_id = $3)", [
      fid,
      libraryId,
      follower.id,
    ]);
    if (!rowCount) return fid;
  }
  return `${follower.fid}#follows/${randomUUID()}`;
}
