import { randomBytes } from "node:crypto";
import type pg from "pg";
import { hashSecretToken } from "../accounts/secret-token.ts";
import { open, seal } from "../subsonic/sealed.ts";
import type { ScrobblingUser } from "./lastfm-auth.service.ts";
import type { LastfmAppsService } from "./lastfm-apps.service.ts";
import { md5Hex, sameMd5 } from "./signature.ts";

/** How far a handshake's timestamp may be from our clock before BADTIME. */
export const HANDSHAKE_SKEW_S = 30 * 60;
/** A handshake's session lasts a day; a player handshakes again when it hears BADSESSION. */
const SESSION_HOURS = 24;

export type HandshakeResult = { ok: true; sessionId: string } | { ok: false; reason: "BADAUTH" | "BADTIME" };

/**
 * AudioScrobbler 1.2: the handshake signs with md5(md5(password) + timestamp). We store only login
 * password hashes, so each person has a scrobbler password (shown in settings, sealed here) to type
 * into the player instead. The 1.2.1 web-service variant (api_key + sk, token md5(secret + timestamp))
 * is checked against the Last.fm application's secret.
 */
export class AudioscrobblerService {
  readonly #pool: pg.Pool;
  readonly #key: Buffer;
  readonly #apps: LastfmAppsService;
  readonly #sessionUser: (appId: string, sessionKey: string) => Promise<ScrobblingUser | null>;

  constructor(deps: {
    pool: pg.Pool;
    key: Buffer;
    apps: LastfmAppsService;
    /** The person of a Last.fm session key of that application (LastfmAuthService.userBySessionKey). */
    sessionUser: (appId: string, sessionKey: string) => Promise<ScrobblingUser | null>;
  }) {
    this.#pool = deps.pool;
    this.#key = deps.key;
    this.#apps = deps.apps;
    this.#sessionUser = deps.sessionUser;
  }

  /** The person's scrobbler password, made on first request so nobody has one they never saw. */
  async password(userId: string): Promise<string> {
    await this.#write(userId, "DO NOTHING");
    return this.#read(userId);
  }

  async regeneratePassword(userId: string): Promise<string> {
    await this.#write(userId, "DO UPDATE SET password_enc = EXCLUDED.password_enc, created_at = now()");
    return this.#read(userId);
  }

  /** `u`, `t`, `a` of the password handshake; `client` is the player's `c` id. */
  async handshake(input: { username: string; timestamp: string; token: string; client: string | null }, now = Date.now()): Promise<HandshakeResult> {
    const time = badTime(input.timestamp, now);
    if (time) return time;
    const { rows } = await this.#pool.query<{ id: string; password_enc: string }>(
      `SELECT u.id, p.password_enc FROM app_user u JOIN scrobbler_password p ON p.user_id = u.id
       WHERE u.username = $1 AND u.disabled_at IS NULL`,
      [input.username.toLowerCase()],
    );
    const row = rows[0];
    const password = row ? open(this.#key, row.password_enc, `${row.id}/scrobbler_password`) : "";
    const expected = md5Hex(md5Hex(password) + input.timestamp);
    if (!row || !sameMd5(input.token, expected)) return { ok: false, reason: "BADAUTH" };
    return { ok: true, sessionId: await this.#newSession(row.id, input.client) };
  }

  /** The web-service handshake: `api_key`, `sk` (a Last.fm session key), `a` = md5(secret + t). */
  async handshakeWithSessionKey(input: { apiKey: string; sessionKey: string; username: string; timestamp: string; token: string; client: string | null }, now = Date.now()): Promise<HandshakeResult> {
    const time = badTime(input.timestamp, now);
    if (time) return time;
    const app = await this.#apps.byApiKey(input.apiKey);
    const user = app && sameMd5(input.token, md5Hex(app.secret + input.timestamp)) ? await this.#sessionUser(app.id, input.sessionKey) : null;
    if (!user || user.username !== input.username.toLowerCase()) return { ok: false, reason: "BADAUTH" };
    return { ok: true, sessionId: await this.#newSession(user.id, input.client ?? app!.name) };
  }

  /** The person and player of a live handshake session, or null (BADSESSION). */
  async sessionUser(sessionId: string): Promise<(ScrobblingUser & { client: string | null }) | null> {
    const { rows } = await this.#pool.query<ScrobblingUser & { client: string | null }>(
      `SELECT u.id, u.username, s.client FROM audioscrobbler_session s JOIN app_user u ON u.id = s.user_id
       WHERE s.id_hash = $1 AND s.expires_at > now() AND u.disabled_at IS NULL`,
      [hashSecretToken(sessionId)],
    );
    return rows[0] ?? null;
  }

  async #newSession(userId: string, client: string | null): Promise<string> {
    const sessionId = randomBytes(16).toString("hex");
    // Lapsed sessions of this person go as a new one comes: the table holds only live ones, roughly.
    await this.#pool.query(
      `WITH gone AS (DELETE FROM audioscrobbler_session WHERE user_id = $2 AND expires_at <= now())
       INSERT INTO audioscrobbler_session (id_hash, user_id, client, expires_at) VALUES ($1, $2, $3, now() + make_interval(hours => $4))`,
      [hashSecretToken(sessionId), userId, client?.slice(0, 100) ?? null, SESSION_HOURS],
    );
    return sessionId;
  }

  async #write(userId: string, onConflict: string): Promise<void> {
    const password = randomBytes(12).toString("base64url");
    await this.#pool.query(
      `INSERT INTO scrobbler_password (user_id, password_enc) VALUES ($1, $2) ON CONFLICT (user_id) ${onConflict}`,
      [userId, seal(this.#key, password, `${userId}/scrobbler_password`)],
    );
  }

  async #read(userId: string): Promise<string> {
    const { rows } = await this.#pool.query<{ password_enc: string }>("SELECT password_enc FROM scrobbler_password WHERE user_id = $1", [userId]);
    return open(this.#key, rows[0]!.password_enc, `${userId}/scrobbler_password`);
  }
}

function badTime(timestamp: string, now: number): HandshakeResult | null {
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(Number(timestamp) - now / 1000) > HANDSHAKE_SKEW_S) return { ok: false, reason: "BADTIME" };
  return null;
}
