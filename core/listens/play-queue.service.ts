import type pg from "pg";
import { visibleItemSql } from "../catalog/catalog-read.ts";
import { orGone } from "../db/foreign-key.ts";
import { Invalid, NotFound } from "../errors.ts";

export interface PlayQueue {
  /** In order, repeats kept; only tracks the user may still see. */
  trackIds: string[];
  currentTrackId: string | null;
  positionMs: number;
  changedAt: string;
  changedBy: string;
}

export interface SavePlayQueue {
  trackIds: string[];
  currentTrackId?: string;
  positionMs: number;
  client: string;
}

/** One saved play queue per person, so a player can resume where another stopped. */
export class PlayQueueService {
  readonly #pool: pg.Pool;

  constructor(deps: { pool: pg.Pool }) {
    this.#pool = deps.pool;
  }

  /** Replaces the queue; no tracks clears it. Every track must be one the user may see. */
  async save(userId: string, queue: SavePlayQueue): Promise<void> {
    if (!queue.trackIds.length) {
      await this.#pool.query("DELETE FROM play_queue WHERE user_id = $1", [userId]);
      return;
    }
    const current = queue.currentTrackId ?? queue.trackIds[0]!;
    if (!queue.trackIds.includes(current)) throw new Invalid("The current track must be one of the queue's tracks");
    if (!Number.isInteger(queue.positionMs) || queue.positionMs < 0) throw new Invalid("The position must be a whole number of milliseconds");
    const distinct = [...new Set(queue.trackIds)];
    const { rows } = await this.#pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM track t WHERE t.id = ANY($2::uuid[]) AND ${visibleItemSql("tracks", "t", "$1")}`,
      [userId, distinct],
    );
    if (rows[0]!.count !== distinct.length) throw new NotFound("track");
    await this.#pool.query(
      `INSERT INTO play_queue (user_id, track_ids, current_track_id, position_ms, changed_at, changed_by)
       VALUES ($1, $2, $3, $4, now(), $5)
       ON CONFLICT (user_id) DO UPDATE SET track_ids = EXCLUDED.track_ids, current_track_id = EXCLUDED.current_track_id,
         position_ms = EXCLUDED.position_ms, changed_at = EXCLUDED.changed_at, changed_by = EXCLUDED.changed_by`,
      [userId, queue.trackIds, current, queue.positionMs, queue.client],
    ).catch(orGone(() => new NotFound("track"), "play_queue_current_track_id_foreign"));
  }

  /** The saved queue, without tracks the user can no longer see; undefined when none is saved. */
  async get(userId: string): Promise<PlayQueue | undefined> {
    const { rows } = await this.#pool.query(
      `SELECT q.current_track_id, q.position_ms, q.changed_at, q.changed_by,
         coalesce((SELECT array_agg(e.id ORDER BY e.n) FROM unnest(q.track_ids) WITH ORDINALITY AS e (id, n)
           WHERE EXISTS (SELECT 1 FROM track t WHERE t.id = e.id AND ${visibleItemSql("tracks", "t", "$1")})), '{}') AS track_ids
       FROM play_queue q WHERE q.user_id = $1`,
      [userId],
    );
    const row = rows[0];
    if (!row) return undefined;
    const trackIds = row.track_ids as string[];
    return {
      trackIds,
      currentTrackId: trackIds.includes(row.current_track_id) ? row.current_track_id : null,
      positionMs: row.position_ms,
      changedAt: new Date(row.changed_at).toISOString(),
      changedBy: row.changed_by,
    };
  }
}
