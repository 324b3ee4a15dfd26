import type pg from "pg";
import { bestCopySql, visibleItemSql } from "../catalog/catalog-read.ts";
import { orGone } from "../db/foreign-key.ts";
import { NotFound } from "../errors.ts";
import type { ListenSink, SubmittedListen } from "./listen-submission.ts";
import type { ListenSource } from "./listening.entity.ts";

export { NOW_PLAYING_FALLBACK_MS } from "./listen-ingest.ts";

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
  readonly #sink: ListenSink;

  constructor(deps: { pool: pg.Pool; sink: ListenSink }) {
    this.#pool = deps.pool;
    this.#sink = deps.sink;
  }

  /** The track as a listen names it, if the user may see it. */
  async #trackListen(userId: string, trackId: string): Promise<Omit<SubmittedListen, "listenedAt">> {
    const { rows } = await this.#pool.query(TRACK_FOR_LISTEN, [userId, trackId]);
    const t = rows[0];
    if (!t) throw new NotFound("track");
    return {
      trackId: t.id,
      trackName: t.title,
      artistName: t.artist_name,
      releaseName: t.album_title,
      durationMs: t.duration_ms,
      recordingMbid: t.mbid,
      releaseMbid: t.album_mbid,
    };
  }

  /**
   * One play of a track the user may see, through the listen sink every source uses (ListenIngest):
   * a listen row and play count + last played. A listen with the same user, start and names as one
   * already kept (a client resending its scrobbles) changes nothing.
   */
  async record(userId: string, trackId: string, input: ListenInput): Promise<{ playCount: number; lastPlayedAt: string }> {
    const at = input.at && input.at.getTime() <= Date.now() + ALLOWED_CLOCK_SKEW_MS ? input.at : new Date();
    const listen = await this.#trackListen(userId, trackId);
    await this.#sink.submit(userId, [{ ...listen, listenedAt: at, listenedMs: input.listenedMs, client: input.client }], input.source)
      .catch(trackGone);
    const { rows } = await this.#pool.query<{ play_count: number; last_played_at: string }>(
      "SELECT play_count, last_played_at FROM play_stat WHERE user_id = $1 AND track_id = $2",
      [userId, trackId],
    );
    // No count: the track was deleted (or hidden) between the two statements.
    if (!rows[0]) throw new NotFound("track");
    return { playCount: rows[0].play_count, lastPlayedAt: new Date(rows[0].last_played_at).toISOString() };
  }

  /**
   * `trackId` is playing on the user's `client` from now: replaces that player's previous report and
   * lapses after the track's duration (NOW_PLAYING_FALLBACK_MS when unknown). No play is counted.
   */
  async setNowPlaying(userId: string, trackId: string, client: string, source: ListenSource = "subsonic"): Promise<void> {
    const listen = await this.#trackListen(userId, trackId);
    await this.#sink.playingNow(userId, { ...listen, client }, source).catch(trackGone);
  }

  /**
   * Current reports of tracks the viewer may see, newest first (Subsonic needs a track: reports that
   * matched none are left out), of people whose listen privacy lets the viewer, signed in here, see them.
   */
  async nowPlaying(viewerId: string): Promise<NowPlayingEntry[]> {
    const { rows } = await this.#pool.query(
      `SELECT np.user_id, u.username, np.client, np.track_id, np.started_at
       FROM now_playing np JOIN app_user u ON u.id = np.user_id JOIN track t ON t.id = np.track_id
       WHERE np.expires_at > now() AND np.track_id IS NOT NULL AND ${visibleItemSql("tracks", "t", "$1")}
         AND (np.user_id = $1 OR u.listen_privacy <> 'private') AND u.disabled_at IS NULL
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
