import { randomBytes, randomUUID } from "node:crypto";
import type pg from "pg";
import { NotFound } from "../errors.ts";
import { open, seal } from "../subsonic/sealed.ts";

/** A scrobbler's registration: its API key and shared secret (shown to its owner). */
export interface LastfmApplication {
  id: string;
  name: string;
  apiKey: string;
  ownerUsername: string;
  createdAt: string;
}

export interface LastfmApplicationWithSecret extends LastfmApplication {
  secret: string;
}

/** What a /2.0/ request needs of the application that signs it. */
export interface SigningApplication {
  id: string;
  name: string;
  secret: string;
}

interface Row {
  id: string;
  name: string;
  api_key: string;
  secret_enc: string;
  owner_username: string;
  created_at: string | Date;
}

const SELECT = `SELECT a.id, a.name, a.api_key, a.secret_enc, u.username AS owner_username, a.created_at
  FROM lastfm_application a JOIN app_user u ON u.id = a.owner_id`;

/**
 * Applications that sign Last.fm requests. Anyone signed in may register one (as on last.fm/api);
 * its owner sees the secret, administrators see every application and may remove any.
 * The secret is sealed, not hashed: checking api_sig means computing md5(params + secret).
 */
export class LastfmAppsService {
  readonly #pool: pg.Pool;
  readonly #key: Buffer;
  /** Opened secrets by application and sealed form: every signed request needs one. */
  readonly #opened = new Map<string, string>();

  constructor(deps: { pool: pg.Pool; key: Buffer }) {
    this.#pool = deps.pool;
    this.#key = deps.key;
  }

  async create(ownerId: string, name: string): Promise<LastfmApplicationWithSecret> {
    const id = randomUUID();
    // 32 hex characters each, as Last.fm's: some clients check the format of what is pasted in.
    const apiKey = randomBytes(16).toString("hex");
    const secret = randomBytes(16).toString("hex");
    await this.#pool.query(
      "INSERT INTO lastfm_application (id, owner_id, name, api_key, secret_enc) VALUES ($1, $2, $3, $4, $5)",
      [id, ownerId, name, apiKey, seal(this.#key, secret, `${id}/secret`)],
    );
    return this.#withSecret((await this.#select("a.id = $1", [id]))[0]!);
  }

  /** The person's own applications, with their secrets. */
  async listOwn(ownerId: string): Promise<LastfmApplicationWithSecret[]> {
    return (await this.#select("a.owner_id = $1", [ownerId])).map((row) => this.#withSecret(row));
  }

  /** Every application on the instance, for administrators: no secrets. */
  async listAll(): Promise<LastfmApplication[]> {
    return (await this.#select("true", [])).map(toApplication);
  }

  /** Removes an application (its sessions and tokens go with it): its owner, or an administrator. */
  async remove(user: { id: string; role: string }, id: string): Promise<void> {
    const { rowCount } = await this.#pool.query(
      "DELETE FROM lastfm_application WHERE id = $1 AND (owner_id = $2 OR $3)",
      [id, user.id, user.role === "admin"],
    );
    if (!rowCount) throw new NotFound("application");
  }

  async byApiKey(apiKey: string): Promise<SigningApplication | null> {
    const row = (await this.#select("a.api_key = $1", [apiKey]))[0];
    return row ? { id: row.id, name: row.name, secret: this.#secret(row) } : null;
  }

  async #select(where: string, values: unknown[]): Promise<Row[]> {
    return (await this.#pool.query<Row>(`${SELECT} WHERE ${where} ORDER BY a.created_at, a.id`, values)).rows;
  }

  #withSecret(row: Row): LastfmApplicationWithSecret {
    return { ...toApplication(row), secret: this.#secret(row) };
  }

  #secret(row: Row): string {
    const cacheKey = `${row.id}/${row.secret_enc}`;
    let secret = this.#opened.get(cacheKey);
    if (secret === undefined) {
      try {
        secret = open(this.#key, row.secret_enc, `${row.id}/secret`);
      } catch (cause) {
        throw new Error("Cannot decrypt a Last.fm application secret: SECRET_KEY (or DATA_DIR/secret.key) is not the one that wrote it", { cause });
      }
      if (this.#opened.size >= 1000) this.#opened.delete(this.#opened.keys().next().value!);
      this.#opened.set(cacheKey, secret);
    }
    return secret;
  }
}

function toApplication(row: Row): LastfmApplication {
  return { id: row.id, name: row.name, apiKey: row.api_key, ownerUsername: row.owner_username, createdAt: new Date(row.created_at).toISOString() };
}
