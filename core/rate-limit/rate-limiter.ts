import type { Queryable } from "../jobs/enqueue.ts";
import { RateLimited } from "../errors.ts";

/**
 * Fixed-window counters in PostgreSQL, so every web replica sees the same counts.
 * `consume` counts and refuses in one atomic step, before the work it guards: N attempts at once take
 * N distinct counts, so no more than the budget get through. A login then `refund`s a success, so a
 * person who types the right password is never locked out by their own successes.
 */
export class RateLimiter {
  readonly #db: Queryable;
  readonly #max: number;
  readonly #windowSeconds: number;

  constructor(deps: { db: Queryable; max: number; windowSeconds: number }) {
    this.#db = deps.db;
    this.#max = deps.max;
    this.#windowSeconds = deps.windowSeconds;
  }

  /**
   * `check` for a caller that folds it into a statement of its own (one round trip instead of two):
   * the SQL of `lockoutSql` and the values of its three parameters, in order.
   */
  lockout(key: string): { sql: (first: number) => string; hitsSql: (first: number) => string; values: [string, number, number] } {
    return { sql: lockoutSql, hitsSql, values: [key, this.#max, this.#windowSeconds] };
  }

  /** Throws RateLimited when the key has used its budget in the current window. */
  async check(key: string): Promise<void> {
    const { rows } = await this.#db.query(
      `SELECT hits, ceil(extract(epoch FROM window_start + make_interval(secs => $2) - now()))::int AS retry_after
       FROM rate_limit WHERE key = $1 AND window_start > now() - make_interval(secs => $2)`,
      [key, this.#windowSeconds],
    );
    const row = rows[0] as { hits: number; retry_after: number } | undefined;
    if (row && row.hits >= this.#max) throw new RateLimited(Math.max(1, row.retry_after));
  }

  /** Counts one hit; returns the count in the current window and the seconds until it ends. */
  async record(key: string): Promise<{ hits: number; retryAfter: number }> {
    const { rows } = await this.#db.query(
      `INSERT INTO rate_limit AS r (key, window_start, hits) VALUES ($1, now(), 1)
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN r.window_start <= now() - make_interval(secs => $2) THEN 1 ELSE r.hits + 1 END,
         window_start = CASE WHEN r.window_start <= now() - make_interval(secs => $2) THEN now() ELSE r.window_start END
       RETURNING hits, ceil(extract(epoch FROM r.window_start + make_interval(secs => $2) - now()))::int AS retry_after`,
      [key, this.#windowSeconds],
    );
    const row = rows[0] as { hits: number; retry_after: number };
    return { hits: row.hits, retryAfter: Math.max(1, row.retry_after) };
  }

  async consume(key: string): Promise<void> {
    const { hits, retryAfter } = await this.record(key);
    if (hits > this.#max) throw new RateLimited(retryAfter);
  }

  /** Gives back one hit counted by `consume` (the attempt succeeded). */
  async refund(key: string): Promise<void> {
    await this.#db.query("UPDATE rate_limit SET hits = greatest(hits - 1, 0) WHERE key = $1", [key]);
  }

  async reset(key: string): Promise<void> {
    await this.#db.query("DELETE FROM rate_limit WHERE key = $1", [key]);
  }
}

/** Scalar SQL over parameters $first (key), +1 (max), +2 (window seconds): seconds left while locked out, else NULL. */
function lockoutSql(first: number): string {
  const [key, max, window] = [`$${first}`, `$${first + 1}::int`, `make_interval(secs => $${first + 2}::int)`];
  return `(SELECT greatest(1, ceil(extract(epoch FROM window_start + ${window} - now())))::int FROM rate_limit
     WHERE key = ${key} AND window_start > now() - ${window} AND hits >= ${max})`;
}

/** Scalar SQL over the same parameters as lockoutSql: the hits counted in the current window, else NULL. */
function hitsSql(first: number): string {
  return `(SELECT hits FROM rate_limit WHERE key = $${first} AND window_start > now() - make_interval(secs => $${first + 2}::int))`;
}

/** Drops windows that ended; run by a worker cron task. */
export async function deleteStaleRateLimits(db: Queryable, olderThanSeconds = 86_400): Promise<void> {
  await db.query("DELETE FROM rate_limit WHERE window_start < now() - make_interval(secs => $1)", [olderThanSeconds]);
}
