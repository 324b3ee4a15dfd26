import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { User } from "../accounts/user.entity.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { Conflict, NotFound } from "../errors.ts";
import type { UploadsService } from "../library/uploads.service.ts";
import type { RateLimiter } from "../rate-limit/rate-limiter.ts";
import { notifyFollowEvent } from "./follow-events.ts";
import { queuedFollowPublisher } from "./follow-publisher.ts";
import {
  deliveryColumns,
  deliveryTarget,
  dropUnfollowedContent,
  type FollowState,
  personActorOf,
  upsertRemoteLibrary,
} from "./follows.queries.ts";
import { type ActorSummary, type LibraryLookup, type LibraryPreview, summarize } from "./library-lookup.ts";
import { signingKeyOf } from "./remote-actors.ts";
import { dropUnfollowedPlaylist, upsertRemotePlaylist } from "./remote-playlists.ts";
import { objectUrls } from "./object-urls.ts";
import type { DomainPolicy } from "../moderation/domain-policy.ts";
import { hasBlocked } from "../moderation/user-blocks.service.ts";

/** The server a lookup target names (a URL's host, or a handle's `@name@host`; null when neither), checked by moderation before any request. */
export function hostOfTarget(target: string): string | null {
  const text = target.trim();
  if (URL.canParse(text) && /^https?:/i.test(text)) return new URL(text).host;
  const handle = /^@?[^@\s]+@([^@\s/]+)$/.exec(text);
  return handle ? handle[1]!.toLowerCase() : null;
}

/** A timestamp as the pool reads it (the ORM's pool leaves them as strings). */
type Timestamp = Date | string;

/** One of a person's follows of a remote library. */
export interface Following {
  id: string;
  state: FollowState;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  library: { id: string; fid: string; name: string; description: string; lastScanAt: Timestamp | null; actor: ActorSummary };
}

/** One of a person's follows of a remote playlist. */
export interface PlaylistFollowing {
  id: string;
  state: FollowState;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  playlist: { id: string; fid: string; name: string; description: string; actor: ActorSummary };
}

/** Someone following one of a person's libraries. */
export interface Follower {
  id: string;
  state: FollowState;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  actor: ActorSummary & { username: string; domain: string };
}

const FOLLOWING_COLUMNS = `f.id, f.state, f.created_at AS "createdAt", f.updated_at AS "updatedAt",
  l.id AS "libraryId", l.fid AS "libraryFid", l.name, l.description, l.last_scan_at AS "lastScanAt",
  la.fid AS "actorFid", la.name AS "actorName", la.username, la.domain`;

type FollowingRow = Omit<Following, "library"> & {
  libraryId: string; libraryFid: string; name: string; description: string; lastScanAt: Timestamp | null;
  actorFid: string; actorName: string | null; username: string; domain: string;
};

const toFollowing = (r: FollowingRow): Following => ({
  id: r.id,
  state: r.state,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  library: {
    id: r.libraryId, fid: r.libraryFid, name: r.name, description: r.description, lastScanAt: r.lastScanAt,
    actor: summarize({ fid: r.actorFid, name: r.actorName, username: r.username, domain: r.domain }),
  },
});

/**
 * Following remote libraries (a person's side) and answering follows of one's own libraries (an owner's
 * side). Follows are per person: their Person actor follows. Activities go out after the commit that
 * records the change, as a job queued in the same transaction (queuedFollowPublisher; the worker sends it through Fedify).
 */
export class FollowsService {
  readonly #db: TransactionSource;
  readonly #pool: pg.Pool;
  readonly #lookup: LibraryLookup;
  readonly #uploads: UploadsService;
  readonly #lookupLimiter: RateLimiter;
  readonly #publicUrl: URL;
  readonly #policy: DomainPolicy | undefined;

  constructor(deps: TransactionSource & {
    lookup: LibraryLookup;
    uploads: UploadsService;
    /** Lookups per person (each costs several requests to other servers). */
    lookupLimiter: RateLimiter;
    publicUrl: URL;
    /** Servers we do not federate with are not looked up nor followed. */
    policy?: DomainPolicy;
  }) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#pool = deps.pool;
    this.#lookup = deps.lookup;
    this.#uploads = deps.uploads;
    this.#lookupLimiter = deps.lookupLimiter;
    this.#publicUrl = deps.publicUrl;
    this.#policy = deps.policy;
  }

  /** What `target` (handle or URL) is, and the viewer's follow of it if any. */
  async preview(user: User, target: string): Promise<LibraryPreview & { follow: { id: string; state: FollowState } | null }> {
    const { preview } = await this.#resolve(user, target);
    const { rows } = await this.#pool.query<{ id: string; state: FollowState }>(
      `SELECT f.id, f.state FROM follow f JOIN app_user u ON u.actor_id = f.follower_id
         LEFT JOIN library l ON l.id = f.library_id LEFT JOIN playlist p ON p.id = f.playlist_id
       WHERE (l.fid = $1 OR p.fid = $1) AND u.id = $2`,
      [preview.fid, user.id],
    );
    return { ...preview, follow: rows[0] ?? null };
  }

  async #resolve(user: User, target: string) {
    await this.#lookupLimiter.consume(`federation-lookup:${user.id}`);
    const host = hostOfTarget(target);
    if (host) await this.#policy?.check(host);
    const me = await personActorOf(this.#pool, user.id);
    const signer = me.rsaPrivateJwk ? signingKeyOf(me) : undefined;
    try {
      return { ...(await this.#lookup.resolve(target, signer)), me };
    } catch (error) {
      // A private library's collection answers its followers only: one already known here is read
      // again through the actor speaking for it, whose document links it.
      const { rows } = await this.#pool.query<{ actorFid: string }>(
        `SELECT a.fid AS "actorFid" FROM library l JOIN actor a ON a.id = l.actor_id WHERE l.fid = $1 AND l.owner_id IS NULL`,
        [target.trim()],
      );
      if (!rows[0]) throw error;
      const resolved = await this.#lookup.resolve(rows[0].actorFid, signer);
      if (resolved.preview.fid !== target.trim()) throw error;
      return { ...resolved, me };
    }
  }

  /**
   * Follows the library `target` names: records it (and the follow, pending) and sends Follow to the
   * actor speaking for it. Following again re-sends the Follow (a refused one asks anew; an accepted
   * one stays accepted and its server answers again).
   */
  async follow(user: User, target: string): Promise<Following | PlaylistFollowing> {
    const { preview, speaker, me } = await this.#resolve(user, target);
    if (await hasBlocked(this.#pool, user.id, speaker.id)) {
      throw new Conflict("You blocked the actor speaking for this; unblock it first (Settings)", "actor_blocked");
    }
    const playlist = preview.kind === "playlist";
    const column = playlist ? "playlist_id" : "library_id";
    const follow = await withTransaction(this.#db, async ({ sql: tx }) => {
      const targetId = playlist ? await upsertRemotePlaylist(tx, preview, speaker.id) : await upsertRemoteLibrary(tx, preview, speaker.id);
      const { rows } = await tx.query<{ id: string; fid: string }>(
        `INSERT INTO follow (id, fid, follower_id, ${column}, state) VALUES ($1, $2, $3, $4, 'pending')
         ON CONFLICT (${column}, follower_id) DO UPDATE
           SET state = CASE WHEN follow.state = 'accepted' THEN 'accepted' ELSE 'pending' END, updated_at = now()
         RETURNING id, fid`,
        [randomUUID(), `${me.fid}#follows/${randomUUID()}`, me.id, targetId],
      );
      const row = rows[0]!;
      await queuedFollowPublisher(tx).sendFollow(me.username, speaker, { fid: row.fid, followerFid: me.fid, objectFid: preview.fid });
      return row;
    });
    return playlist ? this.#playlistFollowing(follow.id) : this.#following(follow.id);
  }

  async #playlistFollowing(followId: string): Promise<PlaylistFollowing> {
    const [follow] = await this.#playlistFollows("f.id = $1", followId);
    if (!follow) throw new NotFound("follow"); // unfollowed meanwhile
    return follow;
  }

  /** Follows of remote playlists matching `where` (over follow `f`, its follower's user `u`; `$1` is `param`), newest first. */
  async #playlistFollows(where: string, param: string): Promise<PlaylistFollowing[]> {
    const { rows } = await this.#pool.query(
      `SELECT f.id, f.state, f.created_at AS "createdAt", f.updated_at AS "updatedAt", p.id AS "playlistId", p.fid, p.name, p.description,
              pa.fid AS "actorFid", pa.name AS "actorName", pa.username, pa.domain
       FROM follow f JOIN app_user u ON u.actor_id = f.follower_id
       JOIN playlist p ON p.id = f.playlist_id AND p.owner_id IS NULL JOIN actor pa ON pa.id = p.actor_id
       WHERE ${where} ORDER BY f.created_at DESC, f.id`,
      [param],
    );
    return rows.map((r) => ({
      id: r.id, state: r.state, createdAt: r.createdAt, updatedAt: r.updatedAt,
      playlist: { id: r.playlistId, fid: r.fid, name: r.name, description: r.description, actor: summarize({ fid: r.actorFid, name: r.actorName, username: r.username, domain: r.domain }) },
    }));
  }

  /** Stops following: the follow goes, Undo(Follow) tells the library's server, unseen copies go. */
  async unfollow(user: User, followId: string): Promise<void> {
    await withTransaction(this.#db, async ({ sql: tx }) => {
      // A library's follow or a playlist's: both name the remote object (fid) and the actor speaking for it.
      const { rows } = await tx.query(
        `SELECT f.fid, f.library_id AS "libraryId", f.playlist_id AS "playlistId", coalesce(l.fid, p.fid) AS "libraryFid",
                me.fid AS "meFid", me.username, ${deliveryColumns("la")}
         FROM follow f
         JOIN app_user u ON u.actor_id = f.follower_id JOIN actor me ON me.id = f.follower_id
         LEFT JOIN library l ON l.id = f.library_id AND l.owner_id IS NULL
         LEFT JOIN playlist p ON p.id = f.playlist_id AND p.owner_id IS NULL
         JOIN actor la ON la.id = coalesce(l.actor_id, p.actor_id)
         WHERE f.id = $1 AND u.id = $2 FOR UPDATE OF f`,
        [followId, user.id],
      );
      const row = rows[0];
      if (!row) throw new NotFound("follow");
      await tx.query("DELETE FROM follow WHERE id = $1", [followId]);
      if (row.playlistId) await dropUnfollowedPlaylist(tx, this.#uploads, row.playlistId);
      else await dropUnfollowedContent(tx, this.#uploads, row.libraryId);
      await queuedFollowPublisher(tx).sendUndo(row.username, deliveryTarget(row, "la"), {
        fid: row.fid, followerFid: row.meFid, objectFid: row.libraryFid,
      }, `${row.meFid}#undo/${randomUUID()}`);
    });
  }

  /** The person's follows of remote libraries and playlists, newest first. */
  async listFollowing(user: User): Promise<(Following | PlaylistFollowing)[]> {
    const { rows } = await this.#pool.query<FollowingRow>(
      `SELECT ${FOLLOWING_COLUMNS} FROM follow f
       JOIN app_user u ON u.actor_id = f.follower_id
       JOIN library l ON l.id = f.library_id AND l.owner_id IS NULL JOIN actor la ON la.id = l.actor_id
       WHERE u.id = $1 ORDER BY f.created_at DESC, f.id`,
      [user.id],
    );
    const all = [...rows.map(toFollowing), ...(await this.#playlistFollows("u.id = $1", user.id))];
    const time = (follow: { createdAt: Timestamp }) => new Date(follow.createdAt).getTime();
    return all.sort((x, y) => time(y) - time(x) || x.id.localeCompare(y.id));
  }

  async #following(followId: string): Promise<Following> {
    const { rows } = await this.#pool.query<FollowingRow>(
      `SELECT ${FOLLOWING_COLUMNS} FROM follow f JOIN library l ON l.id = f.library_id JOIN actor la ON la.id = l.actor_id WHERE f.id = $1`,
      [followId],
    );
    if (!rows[0]) throw new NotFound("follow"); // unfollowed meanwhile
    return toFollowing(rows[0]);
  }

  /** Followers of the owner's library, pending first. Anyone else's library answers 404, like a missing one. */
  async listFollowers(owner: User, libraryId: string): Promise<Follower[]> {
    await this.#ownedLibrary(owner, libraryId);
    const { rows } = await this.#pool.query(
      `SELECT f.id, f.state, f.created_at AS "createdAt", f.updated_at AS "updatedAt", a.fid, a.name, a.username, a.domain
       FROM follow f JOIN actor a ON a.id = f.follower_id
       WHERE f.library_id = $1 ORDER BY f.state = 'pending' DESC, f.created_at DESC, f.id`,
      [libraryId],
    );
    return rows.map((r) => ({
      id: r.id, state: r.state, createdAt: r.createdAt, updatedAt: r.updatedAt,
      actor: { ...summarize(r), username: r.username, domain: r.domain },
    }));
  }

  /** Accepts a follower of the owner's library (pending, or refused before). */
  approve(owner: User, libraryId: string, followId: string): Promise<Follower> {
    return this.#answer(owner, libraryId, followId, "accepted");
  }

  /** Refuses a pending follower, or revokes an accepted one: it stays, refused, and loses access. */
  reject(owner: User, libraryId: string, followId: string): Promise<Follower> {
    return this.#answer(owner, libraryId, followId, "rejected");
  }

  async #answer(owner: User, libraryId: string, followId: string, state: "accepted" | "rejected"): Promise<Follower> {
    await this.#ownedLibrary(owner, libraryId);
    await withTransaction(this.#db, async ({ sql: tx }) => {
      const { rows } = await tx.query(
        `UPDATE follow f SET state = $3, updated_at = now()
         FROM actor fa, library l JOIN actor la ON la.id = l.actor_id
         WHERE f.id = $1 AND f.library_id = $2 AND fa.id = f.follower_id AND l.id = f.library_id
         RETURNING f.fid, fa.is_local AS "isLocal", la.username AS "libraryActor", la.fid AS "libraryActorFid", ${deliveryColumns("fa")}`,
        [followId, libraryId, state],
      );
      const answered = rows[0];
      if (!answered) throw new NotFound("follower");
      await notifyFollowEvent(tx, owner.id, { id: followId, libraryId, side: "follower", state });
      if (!answered.isLocal) {
        const follow = { fid: answered.fid, followerFid: answered.faFid, objectFid: objectUrls(this.#publicUrl).library(libraryId) };
        const kind = state === "accepted" ? "Accept" : "Reject";
        const id = `${answered.libraryActorFid}#${kind.toLowerCase()}s/${randomUUID()}`;
        await queuedFollowPublisher(tx).sendReply(kind, answered.libraryActor, deliveryTarget(answered, "fa"), follow, id);
      }
    });
    return (await this.listFollowers(owner, libraryId)).find((f) => f.id === followId)!;
  }

  async #ownedLibrary(owner: User, libraryId: string): Promise<void> {
    const { rowCount } = await this.#pool.query("SELECT 1 FROM library WHERE id = $1 AND owner_id = $2", [libraryId, owner.id]);
    if (!rowCount) throw new NotFound("library");
  }
}
