import { randomUUID } from "node:crypto";
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { enqueueRemoteScan } from "./remote-scans.service.ts";
import type { UploadsService } from "../library/uploads.service.ts";
import { notifyFollowEvent } from "./follow-events.ts";
import type { DeliveryTarget, FollowActivity } from "./follow-publisher.ts";
import { dropUnfollowedContent, type FollowState } from "./follows.queries.ts";
import { LIBRARY_COLLECTION_PATH, PLAYLIST_COLLECTION_PATH, objectUrls } from "./object-urls.ts";
import { dropUnfollowedPlaylist, enqueueRemotePlaylistScan } from "./remote-playlists.ts";
import type { RemoteActors } from "./remote-actors.ts";
import { hasBlocked } from "../moderation/user-blocks.service.ts";

const log = getLogger(["polyphony", "fediverse", "follows"]);

/** What to answer a Follow with: Accept or Reject from the library's (or playlist's, or person's) actor, or nothing yet (pending). */
export interface FollowReceipt {
  reply: "Accept" | "Reject" | null;
  /** The followed actor's identifier (a library's, a playlist's or a person's), which signs the reply. */
  libraryActor: string;
  libraryActorFid: string;
  follower: DeliveryTarget;
  follow: FollowActivity;
}

/** What a Follow may name here: one of our libraries, or (issue 17) one of our non-private playlists. */
interface LocalTarget {
  kind: "library" | "playlist";
  id: string;
  ownerId: string;
  /** Accepted at once, without the owner. */
  auto: boolean;
  actorUsername: string;
  actorFid: string;
}

const FOLLOW_COLUMN = { library: "library_id", playlist: "playlist_id" } as const;
const UUID_SQL = (param: string) =>
  `(CASE WHEN ${param} ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN ${param} END)::uuid`;

/**
 * The follow activities our inboxes receive, in the shapes Funkwhale sends (funkwhale-federation.md
 * §2.3). Owner side: Follow and Undo(Follow) of our libraries and playlists. Follower side: Accept and
 * Reject of our people's follows, matched by (follower, library or playlist) and the actor speaking for
 * it, never by activity id, which Funkwhale rebuilds.
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
    const target = await this.#localTarget(activity.objectFid);
    if (!target) return this.#followOfPerson(activity);
    const follower = await this.#actors.resolve(activity.followerFid);
    if (follower.isLocal) return null;
    if (await hasBlocked(this.#db.pool, target.ownerId, follower.id)) {
      log.info("Follow of {object} by {follower}, whom its owner blocked: ignored", { object: activity.objectFid, follower: follower.fid });
      return null;
    }
    const column = FOLLOW_COLUMN[target.kind];
    const stored = await withTransaction(this.#db, async ({ sql: tx }) => {
      const fid = await freeFollowFid(tx, activity.fid, follower, target);
      const { rows } = await tx.query<{ id: string; fid: string; state: FollowState; inserted: boolean }>(
        `INSERT INTO follow (id, fid, follower_id, ${column}, state) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (${column}, follower_id) DO UPDATE SET fid = EXCLUDED.fid, updated_at = now()
         RETURNING id, fid, state, (xmax = 0) AS inserted`,
        [randomUUID(), fid, follower.id, target.id, target.auto ? "accepted" : "pending"],
      );
      const row = rows[0]!;
      await notifyFollowEvent(tx, target.ownerId, { id: row.id, ...eventTarget(target), side: "follower", state: row.state });
      return row;
    });
    const urls = objectUrls(this.#origin);
    // The Accept names what was followed: the actor as sent (Mastodon finds its follow request by that),
    // or a playlist's library (Funkwhale 2.0 follows the audio of a playlist), else the collection.
    const followed =
      activity.objectFid === target.actorFid || (target.kind === "playlist" && activity.objectFid === urls.playlistLibrary(target.id))
        ? activity.objectFid
        : target.kind === "library"
          ? urls.library(target.id)
          : urls.playlist(target.id);
    return {
      reply: stored.state === "accepted" ? "Accept" : stored.state === "rejected" ? "Reject" : null,
      libraryActor: target.actorUsername,
      libraryActorFid: target.actorFid,
      follower,
      follow: { fid: stored.fid, followerFid: follower.fid, objectFid: followed },
    };
  }

  /**
   * A Follow of one of our people (a Mastodon user following alice@here): Rejected, from that person, so
   * that it does not stay pending there. A person's follower would need a row of its own (the follow
   * table holds follows of libraries and playlists), and a person publishes nothing to follow: their
   * libraries and playlists are followed instead (their profile lists them). Null for anything else.
   */
  async #followOfPerson(activity: { fid: string | null; followerFid: string; objectFid: string }): Promise<FollowReceipt | null> {
    const { rows } = await this.#db.pool.query<{ username: string; fid: string }>(
      "SELECT username, fid FROM actor WHERE fid = $1 AND is_local AND represents = 'user' AND deleted_at IS NULL",
      [activity.objectFid],
    );
    const person = rows[0];
    if (!person) {
      log.debug("Follow of {object} names none of our libraries, playlists or people", { object: activity.objectFid });
      return null;
    }
    const follower = await this.#actors.resolve(activity.followerFid);
    if (follower.isLocal) return null;
    log.info("Follow of {person} by {follower} rejected: people are not followed here, their libraries and playlists are", {
      person: person.fid, follower: follower.fid,
    });
    return {
      reply: "Reject",
      libraryActor: person.username,
      libraryActorFid: person.fid,
      follower,
      // The Follow as sent: Mastodon finds the follow request by it (and by who rejects it).
      follow: { fid: activity.fid ?? `${follower.fid}#follows/${randomUUID()}`, followerFid: follower.fid, objectFid: person.fid },
    };
  }

  /** Undo(Follow) from the follower: the follow goes. */
  async receiveUndo(activity: { followerFid: string; objectFid: string }): Promise<boolean> {
    const target = await this.#localTarget(activity.objectFid, { evenPrivate: true });
    if (!target) return false;
    return withTransaction(this.#db, async ({ sql: tx }) => {
      const { rows } = await tx.query<{ id: string }>(
        `DELETE FROM follow f USING actor a
         WHERE f.follower_id = a.id AND a.fid = $1 AND NOT a.is_local AND f.${FOLLOW_COLUMN[target.kind]} = $2 RETURNING f.id`,
        [activity.followerFid, target.id],
      );
      if (rows[0]) await notifyFollowEvent(tx, target.ownerId, { id: rows[0].id, ...eventTarget(target), side: "follower", state: "removed" });
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
      if (!follow) return this.#playlistReply(tx, kind, activity);
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

  /**
   * Accept or Reject of a follow of a remote playlist by our person: Accept queues the playlist's scan,
   * Reject drops what nobody may see now. Matched like a library's (follower, playlist, its actor).
   */
  async #playlistReply(tx: pg.PoolClient, kind: "Accept" | "Reject", activity: { senderFid: string; followerFid: string; objectFid: string }): Promise<boolean> {
    const { rows } = await tx.query<{ id: string; playlistId: string; userId: string }>(
      `SELECT f.id, f.playlist_id AS "playlistId", u.id AS "userId"
       FROM follow f
       JOIN actor fa ON fa.id = f.follower_id AND fa.is_local JOIN app_user u ON u.actor_id = fa.id
       JOIN playlist p ON p.id = f.playlist_id AND p.owner_id IS NULL JOIN actor pa ON pa.id = p.actor_id
       WHERE fa.fid = $1 AND p.fid = $2 AND pa.fid = $3
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
    if (kind === "Accept") await enqueueRemotePlaylistScan(tx, follow.playlistId, follow.userId);
    else await dropUnfollowedPlaylist(tx, this.#uploads, follow.playlistId);
    await notifyFollowEvent(tx, follow.userId, { id: follow.id, playlistId: follow.playlistId, side: "following", state });
    return true;
  }

  /**
   * Our live library or playlist a Follow names: its collection's URL (a playlist's library's too, as
   * Funkwhale 2.0 follows `playlist.library`), or its actor's. A private playlist is followed by nobody
   * (`evenPrivate`: still found, for an Undo of a follow made while it was shared).
   */
  async #localTarget(objectFid: string, options: { evenPrivate?: boolean } = {}): Promise<LocalTarget | null> {
    if (!URL.canParse(objectFid)) return null;
    const url = new URL(objectFid);
    if (url.origin !== this.#origin.origin) return null;
    const idAfter = (path: string) => {
      const prefix = path.replace(":id", "");
      return url.pathname.startsWith(prefix) && !url.search ? url.pathname.slice(prefix.length).replace(/\/library$/, "") : "";
    };
    const libraries = await this.#db.pool.query<LocalTarget>(
      `SELECT 'library' AS kind, l.id, l.owner_id AS "ownerId", (l.privacy = 'public' OR NOT l.approve_follows) AS auto,
              a.username AS "actorUsername", a.fid AS "actorFid"
       FROM library l JOIN actor a ON a.id = l.actor_id
       WHERE l.owner_id IS NOT NULL AND a.deleted_at IS NULL AND (l.id = ${UUID_SQL("$1")} OR a.fid = $2)`,
      [idAfter(LIBRARY_COLLECTION_PATH), objectFid],
    );
    if (libraries.rows[0]) return libraries.rows[0];
    // Public and instance playlists alike accept at once (README, federation: followed playlists).
    const playlists = await this.#db.pool.query<LocalTarget>(
      `SELECT 'playlist' AS kind, p.id, p.owner_id AS "ownerId", true AS auto, a.username AS "actorUsername", a.fid AS "actorFid"
       FROM playlist p JOIN actor a ON a.id = p.actor_id
       WHERE p.owner_id IS NOT NULL AND a.deleted_at IS NULL AND ($3::boolean OR p.privacy <> 'private')
         AND (p.id = ${UUID_SQL("$1")} OR a.fid = $2)`,
      [idAfter(PLAYLIST_COLLECTION_PATH), objectFid, options.evenPrivate ?? false],
    );
    return playlists.rows[0] ?? null;
  }
}

const eventTarget = (target: LocalTarget) => (target.kind === "library" ? { libraryId: target.id } : { playlistId: target.id });

/**
 * The Follow's own id when it is the follower's (same server) and no other follow holds it; else one
 * made up under the follower's id. Another server's ids are not ours to trust, nor to collide with.
 */
async function freeFollowFid(tx: pg.PoolClient, fid: string | null, follower: { fid: string; id: string }, target: LocalTarget): Promise<string> {
  if (fid && URL.canParse(fid) && new URL(fid).origin === new URL(follower.fid).origin) {
    const column = FOLLOW_COLUMN[target.kind];
    const { rowCount } = await tx.query(`SELECT 1 FROM follow WHERE fid = $1 AND NOT (${column} IS NOT DISTINCT FROM $2 AND follower_id = $3)`, [
      fid,
      target.id,
      follower.id,
    ]);
    if (!rowCount) return fid;
  }
  return `${follower.fid}#follows/${randomUUID()}`;
}
