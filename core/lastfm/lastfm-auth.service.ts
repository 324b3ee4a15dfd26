import { randomBytes } from "node:crypto";
import type pg from "pg";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "../accounts/password.ts";
import { hashSecretToken } from "../accounts/secret-token.ts";
import { NotFound } from "../errors.ts";
import type { Queryable } from "../jobs/enqueue.ts";
import type { SigningApplication } from "./lastfm-apps.service.ts";
import { LASTFM_ERRORS, LastfmError } from "./lastfm-error.ts";

/** Who a session key (or an AudioScrobbler session) speaks for. */
export interface ScrobblingUser {
  id: string;
  username: string;
}

/** auth.getToken's tokens last an hour, as Last.fm's. */
const TOKEN_MINUTES = 60;

/** A Last.fm-shaped secret: 32 hex characters. Clients store and echo it; some check the shape. */
function newKey(): string {
  return randomBytes(16).toString("hex");
}

/**
 * The hourly cleanup's part: auth.getToken tokens nobody traded in, and AudioScrobbler sessions past
 * their day. Returns how many rows went.
 */
export async function deleteExpiredScrobblerGrants(db: Queryable): Promise<number> {
  const tokens = await db.query("DELETE FROM lastfm_token WHERE expires_at <= now()");
  const sessions = await db.query("DELETE FROM audioscrobbler_session WHERE expires_at <= now()");
  return (tokens.rowCount ?? 0) + (sessions.rowCount ?? 0);
}

/** Runs a password check under the login rate limit (SessionService.passwordAttempt). */
export type PasswordAttempt = <T>(who: { username: string; clientIp: string }, attempt: () => Promise<T>) => Promise<T>;

/**
 * Last.fm's two ways to a session key: the desktop/web flow (auth.getToken, approval in the browser,
 * auth.getSession) and auth.getMobileSession (username and login password). Tokens and session keys
 * are bearer secrets of 128 bits: only their SHA-256 is stored.
 */
export class LastfmAuthService {
  readonly #pool: pg.Pool;
  readonly #passwordAttempt: PasswordAttempt;

  constructor(deps: { pool: pg.Pool; passwordAttempt: PasswordAttempt }) {
    this.#pool = deps.pool;
    this.#passwordAttempt = deps.passwordAttempt;
  }

  async newToken(app: SigningApplication): Promise<string> {
    const token = newKey();
    await this.#pool.query(
      `INSERT INTO lastfm_token (token_hash, application_id, expires_at) VALUES ($1, $2, now() + make_interval(mins => $3))`,
      [hashSecretToken(token), app.id, TOKEN_MINUTES],
    );
    return token;
  }

  /** The application asking, for the approval page: only while the token is unused and fresh. */
  async pendingToken(apiKey: string, token: string): Promise<{ applicationName: string }> {
    const { rows } = await this.#pool.query<{ name: string }>(
      `SELECT a.name FROM lastfm_token t JOIN lastfm_application a ON a.id = t.application_id
       WHERE t.token_hash = $1 AND a.api_key = $2 AND t.user_id IS NULL AND t.expires_at > now()`,
      [hashSecretToken(token), apiKey],
    );
    if (!rows[0]) throw new NotFound("authorisation request");
    return { applicationName: rows[0].name };
  }

  /** The signed-in person lets the application scrobble for them. */
  async approve(userId: string, apiKey: string, token: string): Promise<void> {
    const { rowCount } = await this.#pool.query(
      `UPDATE lastfm_token t SET user_id = $1 FROM lastfm_application a
       WHERE a.id = t.application_id AND t.token_hash = $2 AND a.api_key = $3 AND t.user_id IS NULL AND t.expires_at > now()`,
      [userId, hashSecretToken(token), apiKey],
    );
    if (!rowCount) throw new NotFound("authorisation request");
  }

  /** auth.getSession: trades an approved token (once) for a session key. */
  async sessionFromToken(app: SigningApplication, token: string): Promise<{ name: string; key: string }> {
    const tokenHash = hashSecretToken(token);
    const { rows } = await this.#pool.query<{ approved: boolean; expired: boolean }>(
      `SELECT t.user_id IS NOT NULL AS approved, t.expires_at <= now() AS expired FROM lastfm_token t
       WHERE t.token_hash = $1 AND t.application_id = $2`,
      [tokenHash, app.id],
    );
    const row = rows[0];
    if (!row) throw new LastfmError(LASTFM_ERRORS.AUTHENTICATION_FAILED, "Invalid authentication token supplied");
    if (row.expired) throw new LastfmError(LASTFM_ERRORS.TOKEN_EXPIRED, "This token has expired");
    if (!row.approved) throw new LastfmError(LASTFM_ERRORS.UNAUTHORIZED_TOKEN, "This token has not been authorized");
    // One statement: two getSession calls at once cannot both trade the same token.
    const key = newKey();
    const traded = await this.#pool.query<{ username: string }>(
      `WITH used AS (DELETE FROM lastfm_token WHERE token_hash = $1 AND application_id = $2 AND user_id IS NOT NULL
         AND expires_at > now() RETURNING user_id),
       made AS (INSERT INTO lastfm_session (key_hash, application_id, user_id)
         SELECT $3, $2, used.user_id FROM used JOIN app_user u ON u.id = used.user_id AND u.disabled_at IS NULL RETURNING user_id)
       SELECT u.username FROM made JOIN app_user u ON u.id = made.user_id`,
      [tokenHash, app.id, hashSecretToken(key)],
    );
    const name = traded.rows[0]?.username;
    if (!name) throw new LastfmError(LASTFM_ERRORS.AUTHENTICATION_FAILED, "Invalid authentication token supplied");
    return { name, key };
  }

  /** auth.getMobileSession: the login password, under the login rate limit (per name and per address). */
  async mobileSession(app: SigningApplication, input: { username: string; password: string; clientIp: string }): Promise<{ name: string; key: string }> {
    const username = input.username.toLowerCase();
    const user = await this.#passwordAttempt({ username, clientIp: input.clientIp }, async () => {
      const { rows } = await this.#pool.query<{ id: string; username: string; password_hash: string; disabled: boolean }>(
        "SELECT id, username, password_hash, disabled_at IS NOT NULL AS disabled FROM app_user WHERE username = $1",
        [username],
      );
      const found = rows[0];
      // The same answer and hashing cost for an unknown name, a wrong password and a disabled account.
      const ok = await verifyPassword(input.password, found?.password_hash ?? DUMMY_PASSWORD_HASH);
      if (!ok || !found || found.disabled) {
        throw new LastfmError(LASTFM_ERRORS.AUTHENTICATION_FAILED, "Authentication Failed - You do not have permissions to access the service");
      }
      return found;
    });
    return { name: user.username, key: await this.#newSession(app, user.id) };
  }

  /** The person a session key of this application speaks for, or null (unknown key, other app, disabled person). */
  async userBySessionKey(applicationId: string, key: string): Promise<ScrobblingUser | null> {
    const { rows } = await this.#pool.query<ScrobblingUser>(
      `SELECT u.id, u.username FROM lastfm_session s JOIN app_user u ON u.id = s.user_id
       WHERE s.key_hash = $1 AND s.application_id = $2 AND u.disabled_at IS NULL`,
      [hashSecretToken(key), applicationId],
    );
    return rows[0] ?? null;
  }

  /**
   * What user.getInfo tells about a person (name, sign-up time, how many listens), when the viewer may
   * see their listens: their own, anyone's public ones, instance-only ones to people signed in here
   * (issue 18 point 9). Null otherwise, the same as for a name nobody has.
   */
  async userInfo(username: string, viewerId: string | null): Promise<{ username: string; registered: Date; playcount: number } | null> {
    const { rows } = await this.#pool.query<{ username: string; created_at: string | Date; playcount: string }>(
      `SELECT u.username, u.created_at, (SELECT count(*) FROM listen l WHERE l.user_id = u.id) AS playcount
       FROM app_user u WHERE u.username = $1 AND u.disabled_at IS NULL
         AND (u.id = $2 OR u.listen_privacy = 'public' OR (u.listen_privacy = 'instance' AND $2::uuid IS NOT NULL))`,
      [username.toLowerCase(), viewerId],
    );
    const row = rows[0];
    return row ? { username: row.username, registered: new Date(row.created_at), playcount: Number(row.playcount) } : null;
  }

  async #newSession(app: SigningApplication, userId: string): Promise<string> {
    const key = newKey();
    await this.#pool.query("INSERT INTO lastfm_session (key_hash, application_id, user_id) VALUES ($1, $2, $3)", [hashSecretToken(key), app.id, userId]);
    return key;
  }
}
