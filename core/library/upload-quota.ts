import type pg from "pg";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import type { Queryable } from "../jobs/enqueue.ts";

/**
 * Space is reserved as a file arrives, this much at a time: one statement a MiB, and a parallel upload
 * near the quota is refused only for what the others have really received (plus at most a step each).
 */
const RESERVE_STEP = 1024 * 1024;

/** SQL: bytes of stored uploads in the libraries of the owner ($1). */
const STORED_BYTES = `SELECT coalesce(sum(u.size), 0) FROM upload u JOIN library l ON l.id = u.library_id
  WHERE l.owner_id = $1 AND u.storage = 'stored'`;
/** SQL: bytes reserved by the owner's ($1) uploads in flight; a reservation an hour untouched is a crash's leftover. */
const RESERVED_BYTES = `SELECT coalesce(sum(r.bytes), 0) FROM upload_reservation r
  WHERE r.owner_id = $1 AND r.updated_at > now() - interval '1 hour'`;

/**
 * Each user's storage quota (USER_QUOTA_MB; 0 = none) over stored uploads and uploads in flight. A file
 * reserves its bytes before they are written (migrations/0013), under a per-owner lock, so uploads in
 * parallel requests cannot all see the same free space and together pass the quota.
 */
export class UploadQuota {
  readonly #db: TransactionSource;
  readonly #pool: pg.Pool;
  readonly #quotaBytes: number;

  constructor(deps: TransactionSource & { quotaBytes: number }) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#pool = deps.pool;
    this.#quotaBytes = deps.quotaBytes;
  }

  get limited(): boolean {
    return this.#quotaBytes > 0;
  }

  /** Bytes the owner may still fill; Infinity without a quota. */
  async remaining(ownerId: string): Promise<number> {
    if (!this.limited) return Infinity;
    const { rows } = await this.#pool.query<{ used: string }>(`SELECT (${STORED_BYTES}) + (${RESERVED_BYTES}) AS used`, [ownerId]);
    return this.#quotaBytes - Number(rows[0]!.used);
  }

  /**
   * Grows reservation `id` (already `reserved` bytes) to cover `size` bytes: a whole step when it fits,
   * else just what is missing. Returns the bytes now reserved, or undefined when they do not fit.
   */
  async cover(ownerId: string, id: string, reserved: number, size: number): Promise<number | undefined> {
    if (!this.limited || size <= reserved) return Math.max(reserved, size);
    const missing = size - reserved;
    for (const bytes of missing < RESERVE_STEP ? [RESERVE_STEP, missing] : [missing]) {
      if (await this.#reserve(ownerId, id, bytes)) return reserved + bytes;
    }
    return undefined;
  }

  /** Ends a reservation: in the transaction that records the upload (its size then counts), or after a failure. */
  async release(id: string, db: Queryable = this.#pool): Promise<void> {
    if (this.limited) await db.query("DELETE FROM upload_reservation WHERE id = $1", [id]);
  }

  async #reserve(ownerId: string, id: string, bytes: number): Promise<boolean> {
    return withTransaction(this.#db, async ({ sql: client }) => {
      // The lock orders the owner's reservations; the next statement's snapshot then sees every earlier one.
      await client.query("SELECT pg_advisory_xact_lock(hashtextextended('upload-quota:' || $1, 0))", [ownerId]);
      const { rowCount } = await client.query(
        `INSERT INTO upload_reservation AS r (id, owner_id, bytes) SELECT $2, $1, $3
         WHERE (${STORED_BYTES}) + (${RESERVED_BYTES}) + $3::bigint <= $4::bigint
         ON CONFLICT (id) DO UPDATE SET bytes = r.bytes + EXCLUDED.bytes, updated_at = now()`,
        [ownerId, id, bytes, this.#quotaBytes],
      );
      return rowCount === 1;
    });
  }
}

/** Reservations a crash left behind; run by the hourly cleanup task. */
export async function deleteStaleReservations(db: Queryable): Promise<void> {
  await db.query("DELETE FROM upload_reservation WHERE updated_at < now() - interval '1 hour'");
}
