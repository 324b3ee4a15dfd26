import type pg from "pg";
import type { ListenPrivacy } from "./listen-access.service.ts";

/** What one person plays now, as the web UI shows it (names always; the catalog track when matched). */
export interface NowPlaying {
  username: string;
  trackName: string;
  artistName: string;
  releaseName: string | null;
  trackId: string | null;
  durationMs: number | null;
  client: string;
  startedAt: string;
  /** When the report lapses (the track's end); the UI drops it then. */
  expiresAt: string;
}

/** The `now_playing` event: `playing` is null when the person's report is gone. */
export interface NowPlayingEvent {
  username: string;
  playing: NowPlaying | null;
}

// Each person's latest current report (one a person: their most recent player).
const LATEST = `SELECT DISTINCT ON (np.user_id) np.user_id, u.username, u.listen_privacy, np.track_name, np.artist_name,
    np.release_name, np.track_id, np.duration_ms, np.client, np.started_at, np.expires_at
  FROM now_playing np JOIN app_user u ON u.id = np.user_id
  WHERE np.expires_at > now() AND u.disabled_at IS NULL`;

interface Row {
  user_id: string;
  username: string;
  listen_privacy: ListenPrivacy;
  track_name: string;
  artist_name: string;
  release_name: string | null;
  track_id: string | null;
  duration_ms: number | null;
  client: string;
  started_at: Date;
  expires_at: Date;
}

const toNowPlaying = (r: Row): NowPlaying => ({
  username: r.username,
  trackName: r.track_name,
  artistName: r.artist_name,
  releaseName: r.release_name,
  trackId: r.track_id,
  durationMs: r.duration_ms,
  client: r.client,
  startedAt: new Date(r.started_at).toISOString(),
  expiresAt: new Date(r.expires_at).toISOString(),
});

/**
 * Now playing for the web UI. Who sees a person's report follows their listen privacy: everyone signed
 * in here for 'public' and 'instance' (the web UI and its event stream are for signed-in people), only
 * themselves for 'private'. Unmatched reports (no catalog track) are shown by their names.
 */
export class NowPlayingService {
  readonly #pool: pg.Pool;

  constructor(deps: { pool: pg.Pool }) {
    this.#pool = deps.pool;
  }

  /** What the people `viewerId` may see play now, newest first. */
  async visibleTo(viewerId: string): Promise<NowPlaying[]> {
    const { rows } = await this.#pool.query<Row>(
      `SELECT * FROM (${LATEST} AND (np.user_id = $1 OR u.listen_privacy <> 'private')
         ORDER BY np.user_id, np.started_at DESC) latest
       ORDER BY started_at DESC, username`,
      [viewerId],
    );
    return rows.map(toNowPlaying);
  }

  /** A person's current report and who may see it (for the event relay); null for no such person. */
  async ofUser(userId: string): Promise<{ event: NowPlayingEvent; privacy: ListenPrivacy } | null> {
    const { rows } = await this.#pool.query<Row>(`${LATEST} AND np.user_id = $1 ORDER BY np.user_id, np.started_at DESC`, [userId]);
    if (rows[0]) return { event: { username: rows[0].username, playing: toNowPlaying(rows[0]) }, privacy: rows[0].listen_privacy };
    const user = await this.#pool.query<{ username: string; listen_privacy: ListenPrivacy }>(
      "SELECT username, listen_privacy FROM app_user WHERE id = $1",
      [userId],
    );
    const u = user.rows[0];
    return u ? { event: { username: u.username, playing: null }, privacy: u.listen_privacy } : null;
  }
}
