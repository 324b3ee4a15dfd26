import type pg from "pg";
import { Invalid } from "../errors.ts";
import { LISTENS_EVENTS_CHANNEL, notifyListenEvent } from "./listen-events.ts";

/** How a listen is answered: its names, ids and what the source sent, and its catalog match. */
export interface ListenRecord {
  listenedAt: Date;
  insertedAt: Date;
  /** ListenBrainz's recording_msid: a stable id of the names (listen.dedup_key), which delete-listen takes back. */
  recordingMsid: string;
  trackName: string;
  artistName: string;
  releaseName: string | null;
  durationMs: number | null;
  recordingMbid: string | null;
  releaseMbid: string | null;
  releaseGroupMbid: string | null;
  artistMbids: string[];
  trackNumber: number | null;
  additionalInfo: Record<string, unknown> | null;
  /** The catalog track it matched, if any. */
  trackId: string | null;
  source: string;
  client: string | null;
}

export interface PlayingNowRecord {
  trackName: string;
  artistName: string;
  releaseName: string | null;
  durationMs: number | null;
  additionalInfo: Record<string, unknown> | null;
  trackId: string | null;
  client: string;
  startedAt: Date;
}

export const MAX_LISTENS_PER_GET = 1000;

/** SQL: the recording_msid of listen alias `l` (the names' key, as a UUID). */
export const recordingMsidSql = (l: string) => `md5(${l}.dedup_key)::uuid`;

const RECORD_COLUMNS = `l.listened_at, l.created_at, ${recordingMsidSql("l")} AS recording_msid, l.track_name, l.artist_name,
  l.release_name, l.track_duration_ms, l.recording_mbid, l.release_mbid, l.release_group_mbid, l.artist_mbids, l.track_number,
  l.additional_info, l.track_id, l.source, l.client`;

/** A listen row as RECORD_COLUMNS reads it (the export reads the same names, its start as text). */
export interface ListenRow {
  listened_at: Date;
  created_at: Date;
  recording_msid: string;
  track_name: string;
  artist_name: string;
  release_name: string | null;
  track_duration_ms: number | null;
  recording_mbid: string | null;
  release_mbid: string | null;
  release_group_mbid: string | null;
  artist_mbids: string[] | null;
  track_number: number | null;
  additional_info: Record<string, unknown> | null;
  track_id: string | null;
  source: string;
  client: string | null;
}

function toRecord(r: ListenRow): ListenRecord {
  return {
    listenedAt: new Date(r.listened_at),
    insertedAt: new Date(r.created_at),
    recordingMsid: r.recording_msid,
    trackName: r.track_name,
    artistName: r.artist_name,
    releaseName: r.release_name,
    durationMs: r.track_duration_ms,
    recordingMbid: r.recording_mbid,
    releaseMbid: r.release_mbid,
    releaseGroupMbid: r.release_group_mbid,
    artistMbids: r.artist_mbids ?? [],
    trackNumber: r.track_number,
    additionalInfo: r.additional_info,
    trackId: r.track_id,
    source: r.source,
    client: r.client,
  };
}

// A page cursor: the last listen's start (to the millisecond, as every source's listens are kept) and id.
const encodeCursor = (at: Date, id: string) => Buffer.from(`${at.toISOString()}|${id}`).toString("base64url");

/** The start and id a cursor names; a cursor that is not one of ours is a 400 for the caller. */
export function decodeCursor(cursor: string): [string, string] {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  if (!at || !id || Number.isNaN(Date.parse(at)) || !/^[0-9a-f-]{36}$/.test(id)) throw new Invalid("cursor is not valid", undefined, "invalid_cursor");
  return [at, id];
}

/** A person's listen history (already checked readable by the caller): reading, counting, deleting. */
export class ListenHistoryService {
  readonly #pool: pg.Pool;

  constructor(deps: { pool: pg.Pool }) {
    this.#pool = deps.pool;
  }

  /**
   * Listens newest first, strictly between minTs and maxTs (unix seconds) when given. With only minTs,
   * the `count` listens just after it (ListenBrainz's paging forward), still newest first.
   */
  async listens(userId: string, q: { minTs?: number; maxTs?: number; count: number }): Promise<ListenRecord[]> {
    const forward = q.minTs !== undefined && q.maxTs === undefined;
    const { rows } = await this.#pool.query<ListenRow>(
      `SELECT ${RECORD_COLUMNS} FROM listen l
       WHERE l.user_id = $1 AND ($2::bigint IS NULL OR l.listened_at >= to_timestamp($2 + 1))
         AND ($3::bigint IS NULL OR l.listened_at < to_timestamp($3))
       ORDER BY l.listened_at ${forward ? "ASC" : "DESC"}, l.id LIMIT $4`,
      [userId, q.minTs ?? null, q.maxTs ?? null, Math.min(q.count, MAX_LISTENS_PER_GET)],
    );
    const records = rows.map(toRecord);
    return forward ? records.reverse() : records;
  }

  /**
   * One page of listens newest first, for scrolling through the whole history: after `cursor` (the
   * `next` of the page before), which names a listen exactly (its start and id), so listens started in
   * the same second are neither skipped nor repeated.
   */
  async page(userId: string, q: { cursor?: string; count: number }): Promise<{ listens: ListenRecord[]; next: string | null }> {
    const [at, id] = q.cursor ? decodeCursor(q.cursor) : [null, null];
    const { rows } = await this.#pool.query<ListenRow & { id: string }>(
      `SELECT l.id, ${RECORD_COLUMNS} FROM listen l
       WHERE l.user_id = $1 AND ($2::timestamptz IS NULL OR (l.listened_at, l.id) < ($2::timestamptz, $3::uuid))
       ORDER BY l.listened_at DESC, l.id DESC LIMIT $4`,
      [userId, at, id, Math.min(q.count, MAX_LISTENS_PER_GET)],
    );
    const last = rows.length === q.count ? rows[rows.length - 1] : undefined;
    return { listens: rows.map(toRecord), next: last ? encodeCursor(new Date(last.listened_at), last.id) : null };
  }

  /** The number of listens, and the first and last listen's times (null without listens). */
  async summary(userId: string): Promise<{ count: number; oldest: Date | null; latest: Date | null }> {
    const { rows } = await this.#pool.query(
      "SELECT count(*)::int AS count, min(listened_at) AS oldest, max(listened_at) AS latest FROM listen WHERE user_id = $1",
      [userId],
    );
    const r = rows[0]!;
    return { count: r.count, oldest: r.oldest ? new Date(r.oldest) : null, latest: r.latest ? new Date(r.latest) : null };
  }

  /**
   * Deletes the listen started in second `listenedAt` (unix seconds) under `recordingMsid`; its statistics
   * go with it (the listen table's triggers) and a matched track's play count goes down. False when none.
   */
  async delete(userId: string, listenedAt: number, recordingMsid: string): Promise<boolean> {
    const { rows } = await this.#pool.query<{ deleted: number }>(
      `WITH gone AS (
         DELETE FROM listen l WHERE l.user_id = $1 AND l.listened_at >= to_timestamp($2) AND l.listened_at < to_timestamp($2 + 1)
           AND ${recordingMsidSql("l")} = $3::uuid
         RETURNING l.track_id),
       uncounted AS (
         UPDATE play_stat ps SET play_count = greatest(ps.play_count - g.n, 0)
         FROM (SELECT track_id, count(*)::int AS n FROM gone WHERE track_id IS NOT NULL GROUP BY track_id) g
         WHERE ps.user_id = $1 AND ps.track_id = g.track_id)
       SELECT count(*)::int AS deleted FROM gone`,
      [userId, listenedAt, recordingMsid],
    );
    if (!rows[0]!.deleted) return false;
    // The person's open statistics pages read again.
    await notifyListenEvent(this.#pool, LISTENS_EVENTS_CHANNEL, userId);
    return true;
  }

  /** What the person plays now on their most recent player, until it lapses. */
  async playingNow(userId: string): Promise<PlayingNowRecord | null> {
    const { rows } = await this.#pool.query(
      `SELECT track_name, artist_name, release_name, duration_ms, additional_info, track_id, client, started_at
       FROM now_playing WHERE user_id = $1 AND expires_at > now() ORDER BY started_at DESC LIMIT 1`,
      [userId],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      trackName: r.track_name,
      artistName: r.artist_name,
      releaseName: r.release_name,
      durationMs: r.duration_ms,
      additionalInfo: r.additional_info,
      trackId: r.track_id,
      client: r.client,
      startedAt: new Date(r.started_at),
    };
  }

  /** The import watermark of a service (unix seconds; 0 when never set). */
  async latestImport(userId: string, service: string): Promise<number> {
    const { rows } = await this.#pool.query(
      "SELECT extract(epoch FROM latest_import)::bigint AS ts FROM listen_import_mark WHERE user_id = $1 AND service = $2",
      [userId, service],
    );
    return rows[0] ? Number(rows[0].ts) : 0;
  }

  /** Moves the watermark forward only (an older import does not move it back). */
  async setLatestImport(userId: string, service: string, ts: number): Promise<void> {
    await this.#pool.query(
      `INSERT INTO listen_import_mark (user_id, service, latest_import) VALUES ($1, $2, to_timestamp($3))
       ON CONFLICT (user_id, service) DO UPDATE SET latest_import = greatest(listen_import_mark.latest_import, EXCLUDED.latest_import)`,
      [userId, service, ts],
    );
  }
}
