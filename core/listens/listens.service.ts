import { randomUUID } from "node:crypto";
import type pg from "pg";
import { bestCopySql, visibleItemSql } from "../catalog/catalog-read.ts";
import { orGone } from "../db/foreign-key.ts";
import { NotFound } from "../errors.ts";
import type { ListenSource } from "./listening.entity.ts";

/** A now-playing report without a known track duration lapses after this long. */
export const NOW_PLAYING_FALLBACK_MS = 10 * 60_000;
// Clients' clocks drift; a play "from the future" is taken as happening now.
const ALLOWED_CLOCK_SKEW_MS = 60 * 60_000;

export interface ListenInput {
  /** When playback started; now when unknown. */
  at?: Date;
  source: ListenSource;
  /** The player that reported it (Subsonic `c`). */
  client?: string | null;
  /** How much was heard, when the client said. */
  listenedMs?: number | null;
}

export interface NowPlayingEntry {
  userId: string;
  username: string;
  client: string;
  trackId: string;
  startedAt: string;
}

// The track as a listen remembers it, with the length of the copy the listener hears.
const TRACK_FOR_LISTEN = `
  SELECT t.id, t.title, t.mbid, t.artist_id, t.album_id, a.title AS album_title, a.mbid AS album_mbid,
    coalesce((SELECT string_agg(c.credited_name || c.join_phrase, '' ORDER BY c.position)
                FROM artist_credit c WHERE c.track_id = t.id), ar.name) AS artist_name,
    (${bestCopySql("t.id", { viewer: "$1" }, "u.duration_ms")}) AS duration_ms
  FROM track t JOIN album a ON a.id = t.album_id JOIN artist ar ON ar.id = t.artist_id
  WHERE t.id = $2 AND ${visibleItemSql("tracks", "t", "$1")}`;

/** The track was deleted beside the write that checked it: answered as a missing track. */
const trackGone = orGone(() => new NotFound("track"), "listen_track_id_foreign", "play_stat_track_id_foreign", "now_playing_track_id_foreign");

/** Plays (the listen log and the play counts kept beside it) and what people are playing now. */
export class ListensService {
  readonly #pool: pg.Pool;

  constructor(deps: { pool: pg.Pool }) {
    this.#pool = deps.pool;
  }

  /**
   * One play of a track the user may see: a listen row (with the track's artist and album), and play
   * count + last played. A listen with the same user, start and names as one already kept (a client
   * resending its scrobbles) changes nothing: listen.dedup_key (migration 0016), which needs no track.
   */
  async record(userId: string, trackId: string, input: ListenInput): Promise<{ playCount: number; lastPlayedAt: string }> {
    // Without a time the database's clock (microseconds) stamps it, so quick successive plays stay apart.
    const at = input.at && input.at.getTime() <= Date.now() + ALLOWED_CLOCK_SKEW_MS ? input.at : null;
    const { rows } = await this.#pool.query<{ found: boolean; play_count: number | null; last_played_at: string | null }>(
      `WITH t AS (${TRACK_FOR_LISTEN}),
       added AS (
         INSERT INTO listen (id, user_id, track_id, artist_id, album_id, listened_at, track_name, artist_name, release_name,
           recording_mbid, release_mbid, track_duration_ms, listened_ms, source, client)
         SELECT $3, $1, t.id, t.artist_id, t.album_id, coalesce($4::timestamptz, now()), t.title, t.artist_name, t.album_title,
           t.mbid, t.album_mbid, t.duration_ms, $5, $6, $7 FROM t
         ON CONFLICT (user_id, listened_at, dedup_key) DO NOTHING
         RETURNING track_id, listened_at),
       counted AS (
         INSERT INTO play_stat (user_id, track_id, play_count, last_played_at) SELECT $1, track_id, 1, listened_at FROM added
         ON CONFLICT (user_id, track_id) DO UPDATE
           SET play_count = play_stat.play_count + 1, last_played_at = greatest(play_stat.last_played_at, EXCLUDED.last_played_at)
         RETURNING play_count, last_played_at)
       SELECT EXISTS (SELECT 1 FROM t) AS found,
         coalesce((SELECT play_count FROM counted), ps.play_count) AS play_count,
         coalesce((SELECT last_played_at FROM counted), ps.last_played_at) AS last_played_at
       FROM (SELECT 1) one LEFT JOIN play_stat ps ON ps.user_id = $1 AND ps.track_id = $2`,
      [userId, trackId, randomUUID(), at, input.listenedMs ?? null, input.source, input.client ?? null],
    ).catch(trackGone);
    const row = rows[0]!;
    if (!row.found) throw new NotFound("track");
    return { playCount: row.play_count!, lastPlayedAt: new Date(row.last_played_at!).toISOString() };
  }

  /**
   * `trackId` is playing on the user's `client` from now: replaces that player's previous report and
   * lapses after the track's duration (NOW_PLAYING_FALLBACK_MS when unknown). No play is counted.
   */
  async setNowPlaying(userId: string, trackId: string, client: string): Promise<void> {
    const { rowCount } = await this.#pool.query(
      `WITH t AS (${TRACK_FOR_LISTEN})
       INSERT INTO now_playing (user_id, client, track_id, started_at, expires_at)
       SELECT $1, $3, t.id, now(), now() + make_interval(secs => coalesce(t.duration_ms, $4) / 1000.0) FROM t
       ON CONFLICT (user_id, client) DO UPDATE
         SET track_id = EXCLUDED.track_id, started_at = EXCLUDED.started_at, expires_at = EXCLUDED.expires_at`,
      [userId, trackId, client, NOW_PLAYING_FALLBACK_MS],
    ).catch(trackGone);
    if (!rowCount) throw new NotFound("track");
    // Lapsed reports are never read again; the table stays as small as the number of active players.
    await this.#pool.query("DELETE FROM now_playing WHERE expires_at <= now()");
  }

  /** Current reports of tracks the viewer may see, newest first. */
  async nowPlaying(viewerId: string): Promise<NowPlayingEntry[]> {
    const { rows } = await this.#pool.query(
      `SELECT np.user_id, u.username, np.client, np.track_id, np.started_at
       FROM now_playing np JOIN app_user u ON u.id = np.user_id JOIN track t ON t.id = np.track_id
       WHERE np.expires_at > now() AND ${visibleItemSql("tracks", "t", "$1")}
       ORDER BY np.started_at DESC, u.username, np.client`,
      [viewerId],
    );
    return rows.map((r) => ({
      userId: r.user_id,
      username: r.username,
      client: r.client,
      trackId: r.track_id,
      startedAt: new Date(r.started_at).toISOString(),
    }));
  }
}
