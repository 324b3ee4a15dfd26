import type pg from "pg";
import { enqueueJob, type Queryable } from "../jobs/enqueue.ts";
import { NotFound } from "../errors.ts";
import { open, seal } from "../subsonic/sealed.ts";
import { deriveKey, serverSecretKey } from "../subsonic/secret-key.ts";
import type { ListenSource } from "./listening.entity.ts";

export const RELAY_TARGETS = ["listenbrainz", "lastfm"] as const;
export type RelayTarget = (typeof RELAY_TARGETS)[number];

export const RELAY_LISTENS_TASK = "relay_listens";
export const RELAY_NOW_PLAYING_TASK = "relay_now_playing";

export const DEFAULT_RELAY_BASE_URLS: Record<RelayTarget, string> = {
  listenbrainz: "https://api.listenbrainz.org",
  lastfm: "https://ws.audioscrobbler.com/2.0/",
};

/** Listens per job: one ListenBrainz `import` submission (at most 1000), one Last.fm track.scrobble (at most 50). */
export const RELAY_BATCH: Record<RelayTarget, number> = { listenbrainz: 1000, lastfm: 50 };

/** graphile-worker waits e^attempt seconds between tries: 12 attempts span about a day. */
const RELAY_MAX_ATTEMPTS = 12;

/**
 * Sources whose listens are never relayed. An import is history that came from elsewhere (a ListenBrainz
 * or Last.fm export): sending it back would loop it to where it came from, or flood a target with
 * years of listens it may already hold. Listens a scrobbler sends us live (/1/, /2.0/, AudioScrobbler,
 * Subsonic, the web player) are relayed: the relay target never sends listens to us itself.
 */
const NOT_RELAYED: ReadonlySet<ListenSource> = new Set(["import"]);

export type RelayCredentials =
  | { target: "listenbrainz"; token: string }
  | { target: "lastfm"; apiKey: string; secret: string; sessionKey: string };

export interface RelayStatus {
  target: RelayTarget;
  configured: boolean;
  baseUrl: string;
  /** `failing`: the target refused the credentials; nothing is sent until new ones are saved. */
  status: "active" | "failing" | null;
  lastError: string | null;
  lastErrorAt: string | null;
  lastDeliveredAt: string | null;
  deliveredCount: number;
}

export interface RelayJob {
  userId: string;
  target: RelayTarget;
  listenIds: string[];
}

export interface RelayNowPlayingJob {
  userId: string;
  target: RelayTarget;
  listen: { artistName: string; trackName: string; releaseName?: string | null; durationMs?: number | null; recordingMbid?: string | null };
}

interface Row {
  target: RelayTarget;
  base_url: string;
  credentials_enc: string;
  status: "active" | "failing";
  last_error: string | null;
  last_error_at: Date | string | null;
  last_delivered_at: Date | string | null;
  delivered_count: string;
}

/** The key sealing relay credentials: the web process saves them, the worker opens them. */
export function listenRelayKey(config: Parameters<typeof serverSecretKey>[0]): Buffer {
  return deriveKey(serverSecretKey(config), "listen relay credentials");
}

// The pool may hand timestamps over as text.
const iso = (at: Date | string | null | undefined) => (at ? new Date(at).toISOString() : null);

const context = (userId: string, target: RelayTarget) => `listen_relay/${userId}/${target}`;

/**
 * Queues the relay of listens just written, in the writer's transaction (`sql`): the jobs commit with
 * the listens, and the writer never waits on a remote. One job per target and batch.
 */
export async function queueListenRelays(sql: Queryable, userId: string, listenIds: string[], source: ListenSource): Promise<void> {
  if (!listenIds.length || NOT_RELAYED.has(source)) return;
  const { rows } = await sql.query("SELECT target FROM listen_relay WHERE user_id = $1 AND status = 'active'", [userId]);
  for (const { target } of rows as { target: RelayTarget }[]) {
    for (let i = 0; i < listenIds.length; i += RELAY_BATCH[target]) {
      const job: RelayJob = { userId, target, listenIds: listenIds.slice(i, i + RELAY_BATCH[target]) };
      await enqueueJob(sql, RELAY_LISTENS_TASK, job, { maxAttempts: RELAY_MAX_ATTEMPTS });
    }
  }
}

/** Queues a best-effort now-playing report per target: one try, and a newer report replaces one not yet sent. */
export async function queueNowPlayingRelays(sql: Queryable, userId: string, listen: RelayNowPlayingJob["listen"], source: ListenSource): Promise<void> {
  if (NOT_RELAYED.has(source)) return;
  const { rows } = await sql.query("SELECT target FROM listen_relay WHERE user_id = $1 AND status = 'active'", [userId]);
  for (const { target } of rows as { target: RelayTarget }[]) {
    const job: RelayNowPlayingJob = { userId, target, listen };
    await enqueueJob(sql, RELAY_NOW_PLAYING_TASK, job, { maxAttempts: 1, jobKey: `relay-now-playing:${userId}:${target}` });
  }
}

/**
 * A person's relays to ListenBrainz and Last.fm: their credentials, sealed at rest (never answered
 * back), and how delivery goes (status, last error).
 */
export class ListenRelayService {
  readonly #pool: pg.Pool;
  readonly #key: Buffer;

  constructor(deps: { pool: pg.Pool; key: Buffer }) {
    this.#pool = deps.pool;
    this.#key = deps.key;
  }

  async status(userId: string, target: RelayTarget): Promise<RelayStatus> {
    const row = await this.#row(userId, target);
    return {
      target,
      configured: !!row,
      baseUrl: row?.base_url ?? DEFAULT_RELAY_BASE_URLS[target],
      status: row?.status ?? null,
      lastError: row?.last_error ?? null,
      lastErrorAt: iso(row?.last_error_at),
      lastDeliveredAt: iso(row?.last_delivered_at),
      deliveredCount: Number(row?.delivered_count ?? 0),
    };
  }

  /** Saves (or replaces) the credentials; the relay starts afresh (active, no error). */
  async save(userId: string, credentials: RelayCredentials, baseUrl: string | null): Promise<RelayStatus> {
    const { target } = credentials;
    await this.#pool.query(
      `INSERT INTO listen_relay (user_id, target, base_url, credentials_enc) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, target) DO UPDATE SET base_url = EXCLUDED.base_url, credentials_enc = EXCLUDED.credentials_enc,
         status = 'active', last_error = NULL, last_error_at = NULL, updated_at = now()`,
      [userId, target, baseUrl ?? DEFAULT_RELAY_BASE_URLS[target], seal(this.#key, JSON.stringify(credentials), context(userId, target))],
    );
    return this.status(userId, target);
  }

  async remove(userId: string, target: RelayTarget): Promise<void> {
    const { rowCount } = await this.#pool.query("DELETE FROM listen_relay WHERE user_id = $1 AND target = $2", [userId, target]);
    if (!rowCount) throw new NotFound("No relay to remove");
  }

  /** An active relay's address and opened credentials, for delivery; undefined when removed or failing. */
  async activeRelay(userId: string, target: RelayTarget): Promise<{ baseUrl: string; credentials: RelayCredentials } | undefined> {
    const row = await this.#row(userId, target);
    if (!row || row.status !== "active") return undefined;
    return { baseUrl: row.base_url, credentials: JSON.parse(open(this.#key, row.credentials_enc, context(userId, target))) as RelayCredentials };
  }

  async recordDelivered(userId: string, target: RelayTarget, count: number): Promise<void> {
    await this.#pool.query(
      `UPDATE listen_relay SET last_delivered_at = now(), delivered_count = delivered_count + $3, last_error = NULL, last_error_at = NULL
       WHERE user_id = $1 AND target = $2`,
      [userId, target, count],
    );
  }

  /** Records a delivery error; `stop` marks the relay failing (credentials refused), so nothing more is sent. */
  async recordError(userId: string, target: RelayTarget, message: string, stop: boolean): Promise<void> {
    await this.#pool.query(
      `UPDATE listen_relay SET last_error = $3, last_error_at = now(), status = CASE WHEN $4 THEN 'failing' ELSE status END
       WHERE user_id = $1 AND target = $2`,
      [userId, target, message.slice(0, 500), stop],
    );
  }

  /** The stored listens of a relay job (those since deleted are skipped), oldest first. */
  async listens(userId: string, listenIds: string[]): Promise<RelayedListen[]> {
    const { rows } = await this.#pool.query<RelayedListen>(
      `SELECT floor(extract(epoch FROM listened_at))::int AS "listenedAt", artist_name AS "artistName", track_name AS "trackName", release_name AS "releaseName",
         recording_mbid AS "recordingMbid", release_mbid AS "releaseMbid", release_group_mbid AS "releaseGroupMbid",
         artist_mbids AS "artistMbids", track_number AS "trackNumber", additional_info AS "additionalInfo",
         track_duration_ms AS "durationMs", client
       FROM listen WHERE user_id = $1 AND id = ANY($2::uuid[]) ORDER BY listened_at`,
      [userId, listenIds],
    );
    return rows;
  }

  async #row(userId: string, target: RelayTarget): Promise<Row | undefined> {
    const { rows } = await this.#pool.query<Row>(
      `SELECT target, base_url, credentials_enc, status, last_error, last_error_at, last_delivered_at, delivered_count
       FROM listen_relay WHERE user_id = $1 AND target = $2`,
      [userId, target],
    );
    return rows[0];
  }
}

/** A listen as kept, with what the targets take. */
export interface RelayedListen {
  /** Unix seconds; none for playing now. */
  listenedAt?: number;
  artistName: string;
  trackName: string;
  releaseName?: string | null;
  recordingMbid?: string | null;
  releaseMbid?: string | null;
  releaseGroupMbid?: string | null;
  artistMbids?: string[] | null;
  trackNumber?: number | null;
  additionalInfo?: Record<string, unknown> | null;
  durationMs?: number | null;
  client?: string | null;
}
