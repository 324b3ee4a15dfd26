import type { KvKey, KvStore, KvStoreListEntry, KvStoreSetOptions } from "@fedify/fedify";
import { isEqual } from "es-toolkit";
import type pg from "pg";
import { withTransaction, type TransactionSource } from "../../core/db/transaction.ts";

const LIVE = "(expires_at IS NULL OR expires_at > now())";

function expiry(options?: KvStoreSetOptions): string | null {
  // Temporal.Duration#toString() is ISO 8601, which PostgreSQL's interval input accepts.
  return options?.ttl ? options.ttl.toString() : null;
}

/**
 * Fedify's KvStore on the fedify_kv table (created by a migration). A missing key yields `undefined`;
 * a stored JSON null comes back as `null`, which Fedify's key cache reads as "known unavailable".
 * Expired rows are ignored on read and removed in batches by a worker cron task.
 */
export class PostgresKvStore implements KvStore {
  readonly #db: TransactionSource;
  readonly #pool: pg.Pool;

  constructor(db: TransactionSource) {
    this.#db = db;
    this.#pool = db.pool;
  }

  async get<T = unknown>(key: KvKey): Promise<T | undefined> {
    const { rows } = await this.#pool.query<{ value: T }>(
      `SELECT value FROM fedify_kv WHERE key = $1 AND ${LIVE}`,
      [key],
    );
    return rows.length ? rows[0]!.value : undefined;
  }

  async set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    await this.#pool.query(
      `INSERT INTO fedify_kv (key, value, expires_at) VALUES ($1, $2::jsonb, now() + $3::interval)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
      [key, JSON.stringify(value ?? null), expiry(options)],
    );
  }

  async delete(key: KvKey): Promise<void> {
    await this.#pool.query("DELETE FROM fedify_kv WHERE key = $1", [key]);
  }

  async cas(key: KvKey, expectedValue: unknown, newValue: unknown, options?: KvStoreSetOptions): Promise<boolean> {
    return withTransaction(this.#db, async ({ sql: client }) => {
      // A row lock cannot guard a row that does not exist yet, so "absent" is claimed by an insert.
      if (expectedValue === undefined && newValue !== undefined) {
        await client.query(`DELETE FROM fedify_kv WHERE key = $1 AND NOT ${LIVE}`, [key]);
        const inserted = await client.query(
          `INSERT INTO fedify_kv (key, value, expires_at) VALUES ($1, $2::jsonb, now() + $3::interval)
           ON CONFLICT (key) DO NOTHING`,
          [key, JSON.stringify(newValue), expiry(options)],
        );
        return inserted.rowCount === 1;
      }
      const { rows } = await client.query<{ value: unknown }>(
        `SELECT value FROM fedify_kv WHERE key = $1 AND ${LIVE} FOR UPDATE`,
        [key],
      );
      if (!isEqual(rows.length ? rows[0]!.value : undefined, expectedValue)) return false;
      if (newValue === undefined) await client.query("DELETE FROM fedify_kv WHERE key = $1", [key]);
      else
        await client.query(`UPDATE fedify_kv SET value = $2::jsonb, expires_at = now() + $3::interval WHERE key = $1`, [
          key,
          JSON.stringify(newValue),
          expiry(options),
        ]);
      return true;
    });
  }

  async *list(prefix?: KvKey): AsyncIterable<KvStoreListEntry> {
    const { rows } = prefix?.length
      ? await this.#pool.query<{ key: string[]; value: unknown }>(
          `SELECT key, value FROM fedify_kv
           WHERE array_length(key, 1) >= $2 AND key[1:$2] = $1::text[] AND ${LIVE} ORDER BY key`,
          [prefix, prefix.length],
        )
      : await this.#pool.query<{ key: string[]; value: unknown }>(
          `SELECT key, value FROM fedify_kv WHERE ${LIVE} ORDER BY key`,
        );
    for (const row of rows) yield { key: row.key as unknown as KvKey, value: row.value };
  }
}

/** Deletes expired rows in bounded batches; returns how many went. */
export async function deleteExpiredKvEntries(pool: pg.Pool, batchSize = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await pool.query(
      `DELETE FROM fedify_kv WHERE key IN (
         SELECT key FROM fedify_kv WHERE expires_at <= now() LIMIT $1)`,
      [batchSize],
    );
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) return total;
  }
}
