import { randomBytes } from "node:crypto";
import type pg from "pg";
import { hashSecretToken } from "../accounts/secret-token.ts";
import type { RateLimiter } from "../rate-limit/rate-limiter.ts";
import { open, seal } from "./sealed.ts";

export interface SubsonicUser {
  id: string;
  username: string;
  role: "admin" | "user";
  disabled: boolean;
  /**
   * The catalog generation and this user's stars/ratings/plays counter, read with the credentials
   * (migration 0011): answers kept under the same version are still right (server/subsonic/answer-cache.ts).
   */
  answerVersion: string;
}

export interface SubsonicSecrets {
  password: string;
  apiKey: string;
}

interface Row {
  id: string;
  username: string;
  role: "admin" | "user";
  disabled_at: string | null;
  password_enc: string | null;
  api_key_enc: string | null;
  answer_version: string;
}

const USER_COLUMNS = `u.id, u.username, u.role, u.disabled_at, c.password_enc, c.api_key_enc,
  (SELECT value FROM catalog_generation) || '.' || coalesce((SELECT g.value FROM user_data_generation g WHERE g.user_id = u.id), 0) AS answer_version`;

/**
 * Per-user Subsonic password and API key, separate from the login password and encrypted at rest.
 * They are made on first request (GET /api/v1/me/subsonic), so nobody has one they never saw.
 */
/** Passwords opened at once (a few hundred bytes each), oldest first out. */
const MAX_OPENED = 1000;

export class SubsonicCredentialsService {
  readonly #pool: pg.Pool;
  readonly #key: Buffer;
  /**
   * Opened passwords by user and sealed form (a new password is a new sealed form, so this is never
   * stale): token auth needs the password on every request, and AES-GCM with a new key object costs
   * ~20 µs each time, a tenth of what answering a kept answer costs.
   */
  readonly #opened = new Map<string, string>();

  constructor(deps: { pool: pg.Pool; key: Buffer }) {
    this.#pool = deps.pool;
    this.#key = deps.key;
  }

  async get(userId: string): Promise<SubsonicSecrets> {
    const existing = await this.#load(`u.id = $1`, userId);
    if (existing?.password_enc) return this.#secrets(existing);
    // ON CONFLICT: two first requests at once agree on one set.
    await this.#write(userId, "DO NOTHING");
    return this.#secrets((await this.#load(`u.id = $1`, userId))!);
  }

  async regenerate(userId: string): Promise<SubsonicSecrets> {
    await this.#write(userId, `DO UPDATE SET password_enc = EXCLUDED.password_enc, api_key_enc = EXCLUDED.api_key_enc,
      api_key_hash = EXCLUDED.api_key_hash, created_at = now()`);
    return this.#secrets((await this.#load(`u.id = $1`, userId))!);
  }

  /**
   * The user with that name and their Subsonic password (null when they never made one), read with
   * lockout checks (RateLimiter.lockout) in one prepared statement: auth runs on every Subsonic
   * request, where three queries over two round trips cost more than the answer of a small call.
   * No credential cache: a regenerated password, a disabled user and a lockout count at once in
   * every process. `lockedFor`: the longest wait (seconds) of a used-up limit, else 0; `failures`: the
   * most attempts any of those limits has counted in its window (failed ones: successes are not counted).
   */
  async byUsernameUnlessLocked(username: string, lockouts: ReturnType<RateLimiter["lockout"]>[]): Promise<{
    lockedFor: number;
    failures: number;
    found: { user: SubsonicUser; password: string | null } | null;
  }> {
    const waits = lockouts.map((l, i) => l.sql(2 + 3 * i));
    const hits = lockouts.map((l, i) => l.hitsSql(2 + 3 * i));
    const { rows } = await this.#pool.query<Partial<Row> & { locked_for: number | null; failures: number | null }>({
      name: `subsonic-auth-${lockouts.length}`, // prepared once per connection
      text: `SELECT ${waits.length ? `greatest(${waits.join(", ")})` : "NULL::int"} AS locked_for,
          ${hits.length ? `greatest(${hits.join(", ")})` : "NULL::int"} AS failures, ${USER_COLUMNS}
        FROM (SELECT 1) one LEFT JOIN (app_user u LEFT JOIN subsonic_credential c ON c.user_id = u.id) ON u.username = $1`,
      values: [username.toLowerCase(), ...lockouts.flatMap((l) => l.values)],
    });
    const row = rows[0]!;
    const found = row.id ? { user: toUser(row as Row), password: row.password_enc ? this.#password(row as Row) : null } : null;
    return { lockedFor: row.locked_for ?? 0, failures: row.failures ?? 0, found };
  }

  /** The longest wait (seconds) of these lockouts (RateLimiter.lockout) now, else 0: one statement. */
  async lockedFor(lockouts: ReturnType<RateLimiter["lockout"]>[]): Promise<number> {
    if (!lockouts.length) return 0;
    const { rows } = await this.#pool.query<{ locked_for: number | null }>({
      name: `subsonic-lockout-${lockouts.length}`,
      text: `SELECT greatest(${lockouts.map((l, i) => l.sql(1 + 3 * i)).join(", ")}) AS locked_for`,
      values: lockouts.flatMap((l) => l.values),
    });
    return rows[0]!.locked_for ?? 0;
  }

  async byApiKey(apiKey: string): Promise<SubsonicUser | null> {
    const row = await this.#load(`c.api_key_hash = $1`, hashSecretToken(apiKey));
    return row ? toUser(row) : null;
  }

  async #load(where: string, value: string): Promise<Row | undefined> {
    const { rows } = await this.#pool.query<Row>(
      `SELECT ${USER_COLUMNS} FROM app_user u LEFT JOIN subsonic_credential c ON c.user_id = u.id WHERE ${where}`,
      [value],
    );
    return rows[0];
  }

  async #write(userId: string, onConflict: string): Promise<void> {
    // Typeable on a phone keyboard (clients ask for it), still 144 bits.
    const password = randomBytes(18).toString("base64url");
    const apiKey = `pps_${randomBytes(32).toString("base64url")}`;
    await this.#pool.query(
      `INSERT INTO subsonic_credential (user_id, password_enc, api_key_enc, api_key_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id) ${onConflict}`,
      [userId, seal(this.#key, password, `${userId}/password`), seal(this.#key, apiKey, `${userId}/api_key`), hashSecretToken(apiKey)],
    );
  }

  #password(row: Row): string {
    const key = `${row.id}/${row.password_enc!}`;
    let password = this.#opened.get(key);
    if (password === undefined) {
      password = this.#open(() => open(this.#key, row.password_enc!, `${row.id}/password`));
      if (this.#opened.size >= MAX_OPENED) this.#opened.delete(this.#opened.keys().next().value!);
      this.#opened.set(key, password);
    }
    return password;
  }

  #secrets(row: Row): SubsonicSecrets {
    return this.#open(() => ({
      password: open(this.#key, row.password_enc!, `${row.id}/password`),
      apiKey: open(this.#key, row.api_key_enc!, `${row.id}/api_key`),
    }));
  }

  #open<T>(opening: () => T): T {
    try {
      return opening();
    } catch (cause) {
      // Almost always a different key: processes that do not share DATA_DIR need the same SECRET_KEY.
      throw new Error("Cannot decrypt Subsonic credentials: SECRET_KEY (or DATA_DIR/secret.key) is not the one that wrote them", { cause });
    }
  }
}

function toUser(row: Row): SubsonicUser {
  return { id: row.id, username: row.username, role: row.role, disabled: row.disabled_at !== null, answerVersion: row.answer_version };
}
