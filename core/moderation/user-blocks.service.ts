import type pg from "pg";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { Invalid, NotFound } from "../errors.ts";
import { personActorOf } from "../fediverse/follows.queries.ts";
import type { RemoteActors } from "../fediverse/remote-actors.ts";
import type { UploadsService } from "../library/uploads.service.ts";
import { dropFollowers, dropFollowing } from "./follow-drops.ts";
import { logDecision } from "./moderation-log.ts";

/** A remote actor a person blocked. */
export interface BlockedActor {
  actor: { id: string; fid: string; name: string | null; username: string; domain: string };
  createdAt: Date | string;
}

/**
 * A person blocking a remote actor: its follows of their libraries and playlists go, their follows of the
 * libraries it speaks for go too, and its activities to them are ignored from then on (the inbox
 * checks isBlockedBy). The actor is not told. Logged as the person's decision.
 */
export class UserBlocks {
  readonly #db: TransactionSource;
  readonly #actors: RemoteActors;
  readonly #uploads: UploadsService;

  constructor(deps: TransactionSource & { remoteActors: RemoteActors; uploads: UploadsService }) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#actors = deps.remoteActors;
    this.#uploads = deps.uploads;
  }

  async list(userId: string): Promise<BlockedActor[]> {
    const { rows } = await this.#db.pool.query<BlockedActor>(
      `SELECT json_build_object('id', a.id, 'fid', a.fid, 'name', a.name, 'username', a.username, 'domain', a.domain) AS actor,
              b.created_at AS "createdAt"
       FROM user_block b JOIN actor a ON a.id = b.actor_id WHERE b.user_id = $1 ORDER BY b.created_at DESC`,
      [userId],
    );
    return rows;
  }

  /** Blocks the remote actor `actorFid` (read from its server when unknown here). Blocking again changes nothing. */
  async block(userId: string, actorFid: string): Promise<BlockedActor> {
    const actor = await this.#actors.resolve(actorFid);
    if (actor.isLocal) throw new Invalid("Only actors on other servers can be blocked", undefined, "local_actor");
    const me = await personActorOf(this.#db.pool, userId);
    await withTransaction(this.#db, async ({ sql: tx }) => {
      const { rowCount } = await tx.query("INSERT INTO user_block (user_id, actor_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [userId, actor.id]);
      if (!rowCount) return;
      const followers = await dropFollowers(
        tx,
        `a.id = $1 AND (f.library_id IN (SELECT id FROM library WHERE owner_id = $2) OR f.playlist_id IN (SELECT id FROM playlist WHERE owner_id = $2))`,
        [actor.id, userId],
      );
      const following = await dropFollowing(tx, this.#uploads, "la.id = $1 AND fa.id = $2", [actor.id, me.id]);
      await logDecision(tx, { moderatorId: userId, action: "user_block", target: actor.fid, detail: { followsDropped: followers + following } });
    });
    return (await this.list(userId)).find((b) => b.actor.id === actor.id)!;
  }

  /** Lifts the person's block of actor row `actorId`. */
  async unblock(userId: string, actorId: string): Promise<void> {
    await withTransaction(this.#db, async ({ sql: tx }) => {
      const { rows } = await tx.query<{ fid: string }>(
        "DELETE FROM user_block b USING actor a WHERE a.id = b.actor_id AND b.user_id = $1 AND b.actor_id = $2 RETURNING a.fid",
        [userId, actorId],
      );
      if (!rows[0]) throw new NotFound("block");
      await logDecision(tx, { moderatorId: userId, action: "user_unblock", target: rows[0].fid });
    });
  }
}

/**
 * Whether the person behind local actor `identifier` (a person, or the owner of a library or playlist)
 * blocked the remote actor `actorFid`: what that actor sends to it is ignored.
 */
export async function isBlockedBy(pool: pg.Pool, identifier: string, actorFid: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `SELECT 1 FROM actor la
     LEFT JOIN app_user pu ON pu.actor_id = la.id
     LEFT JOIN library l ON l.actor_id = la.id AND l.owner_id IS NOT NULL
     LEFT JOIN playlist p ON p.actor_id = la.id
     JOIN user_block b ON b.user_id = coalesce(pu.id, l.owner_id, p.owner_id)
     JOIN actor ra ON ra.id = b.actor_id
     WHERE la.is_local AND la.username = $1 AND ra.fid = $2`,
    [identifier, actorFid],
  );
  return Boolean(rowCount);
}

/** Whether user `ownerId` blocked the actor row `actorId`. */
export async function hasBlocked(db: pg.Pool | pg.PoolClient, ownerId: string, actorId: string): Promise<boolean> {
  const { rowCount } = await db.query("SELECT 1 FROM user_block WHERE user_id = $1 AND actor_id = $2", [ownerId, actorId]);
  return Boolean(rowCount);
}
