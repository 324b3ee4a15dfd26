import { randomUUID } from "node:crypto";
import type pg from "pg";
import { hashSecretToken } from "../accounts/secret-token.ts";

export const LISTEN_PRIVACIES = ["public", "instance", "private"] as const;
export type ListenPrivacy = (typeof LISTEN_PRIVACIES)[number];

export interface Listener {
  id: string;
  username: string;
}

/**
 * Who a listen request is from and whose listens it may read. The listen token is what scrobblers
 * send (`Authorization: Token <token>`): a random UUID, as ListenBrainz's, so clients that check its
 * form take it; shown once, stored as its SHA-256 (like API tokens), replaced when regenerated.
 * A person's listens and statistics are public, for people signed in here, or theirs alone
 * (app_user.listen_privacy); a listener the viewer may not read is answered exactly as a missing one.
 */
export class ListenAccessService {
  readonly #pool: pg.Pool;

  constructor(deps: { pool: pg.Pool }) {
    this.#pool = deps.pool;
  }

  /** A new listen token for the user (the old one stops working); the only time it is readable. */
  async regenerateToken(userId: string): Promise<string> {
    const token = randomUUID();
    await this.#pool.query(
      `INSERT INTO listen_token (user_id, token_hash) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at = now()`,
      [userId, hashSecretToken(token)],
    );
    return token;
  }

  /** When the user's listen token was made, or null when they have none. */
  async tokenCreatedAt(userId: string): Promise<Date | null> {
    const { rows } = await this.#pool.query("SELECT created_at FROM listen_token WHERE user_id = $1", [userId]);
    return rows[0] ? new Date(rows[0].created_at) : null;
  }

  /** The enabled user a listen token belongs to, or null. */
  async authenticate(token: string): Promise<Listener | null> {
    const { rows } = await this.#pool.query<Listener>(
      `SELECT u.id, u.username FROM listen_token t JOIN app_user u ON u.id = t.user_id
       WHERE t.token_hash = $1 AND u.disabled_at IS NULL`,
      [hashSecretToken(token.trim().toLowerCase())],
    );
    return rows[0] ?? null;
  }

  async privacy(userId: string): Promise<ListenPrivacy> {
    const { rows } = await this.#pool.query("SELECT listen_privacy FROM app_user WHERE id = $1", [userId]);
    return rows[0]?.listen_privacy ?? "private";
  }

  async setPrivacy(userId: string, privacy: ListenPrivacy): Promise<void> {
    await this.#pool.query("UPDATE app_user SET listen_privacy = $2, updated_at = now() WHERE id = $1", [userId, privacy]);
  }

  /**
   * The listener named `username` if `viewerId` (null: anonymous) may read their listens and
   * statistics: themselves always, anyone signed in here when 'instance', anyone when 'public'.
   * Otherwise null, as for a name nobody has.
   */
  async readable(username: string, viewerId: string | null): Promise<Listener | null> {
    const { rows } = await this.#pool.query<Listener>(
      `SELECT id, username FROM app_user
       WHERE username = lower($1) AND disabled_at IS NULL
         AND (id = $2::uuid OR listen_privacy = 'public' OR (listen_privacy = 'instance' AND $2::uuid IS NOT NULL))`,
      [username, viewerId],
    );
    return rows[0] ?? null;
  }
}
