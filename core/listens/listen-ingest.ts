import type pg from "pg";
import { visibleLibraryIdsSql } from "../catalog/catalog-read.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { matchedTrackSql, type ListenColumns } from "./listen-matching.ts";
import { queueListenRelays, queueNowPlayingRelays } from "./listen-relay.service.ts";
import type { ListenSink, ListenSubmissionResult, SubmittedListen } from "./listen-submission.ts";
import type { ListenSource } from "./listening.entity.ts";
import { LISTENS_EVENTS_CHANNEL, notifyListenEvent, NOW_PLAYING_EVENTS_CHANNEL } from "./listen-events.ts";

/** A now-playing report without a known track duration lapses after this long. */
export const NOW_PLAYING_FALLBACK_MS = 10 * 60_000;

// The submitted values as rows (jsonb_to_recordset), one column per field the model keeps.
const INPUT_ROWS = `jsonb_to_recordset($2::jsonb) AS i(listened_at timestamptz, artist_name text, track_name text,
  release_name text, duration_ms integer, listened_ms integer, recording_mbid uuid, release_mbid uuid,
  release_group_mbid uuid, artist_mbids uuid[], track_number integer, client text, track_id uuid, additional_info jsonb)`;

const INPUT_COLUMNS: ListenColumns = {
  trackName: "i.track_name",
  artistName: "i.artist_name",
  releaseName: "i.release_name",
  durationMs: "i.duration_ms",
  recordingMbid: "i.recording_mbid",
};

/**
 * A listen's track: the one the source named, if the listener may see it (web player, Subsonic), else
 * the one its ids and names match (matchedTrackSql). $1 is the listener.
 */
const MATCH = `coalesce(
    (SELECT t.id FROM track t WHERE t.id = i.track_id AND EXISTS (SELECT 1 FROM search_document vd
       WHERE vd.id = t.id AND vd.kind = 'track' AND search_visible(vd.library_ids, libs.ids))),
    ${matchedTrackSql(INPUT_COLUMNS, "libs.ids")})`;

function inputRow(l: Partial<SubmittedListen>) {
  return {
    listened_at: l.listenedAt?.toISOString() ?? null,
    artist_name: l.artistName,
    track_name: l.trackName,
    release_name: l.releaseName || null,
    duration_ms: l.durationMs ?? null,
    listened_ms: l.listenedMs ?? null,
    recording_mbid: l.recordingMbid ?? null,
    release_mbid: l.releaseMbid ?? null,
    release_group_mbid: l.releaseGroupMbid ?? null,
    artist_mbids: l.artistMbids?.length ? l.artistMbids : null,
    track_number: l.trackNumber ?? null,
    client: l.client ?? null,
    track_id: l.trackId ?? null,
    additional_info: l.additionalInfo ?? null,
  };
}

/**
 * The one listen model (issue 18 point 3): every source's listens go through here. A listen is kept
 * once per (person, start, normalised artist + track + release) (listen.dedup_key, migration 0016),
 * matched to a catalog track the person may see (listen-matching.ts), or kept under its own names and
 * linked when a matching track is imported (linkUnmatched). Matched listens count in play_stat
 * (Subsonic play counts). Each write, its statistics (ListenWriteHook) and its relay jobs
 * (listen-relay.service.ts) are one transaction.
 */
export class ListenIngest implements ListenSink {
  readonly #db: TransactionSource;

  constructor(deps: { db: TransactionSource }) {
    this.#db = deps.db;
  }

  async submit(userId: string, listens: SubmittedListen[], source: ListenSource): Promise<ListenSubmissionResult> {
    if (!listens.length) return { accepted: 0, duplicates: 0 };
    const ids = await withTransaction(this.#db, async ({ sql }) => {
      const { rows } = await sql.query<{ id: string }>(
        `WITH libs AS (SELECT ${visibleLibraryIdsSql("$1")} AS ids),
         matched AS (SELECT i.*, ${MATCH} AS match_id FROM ${INPUT_ROWS}, libs),
         added AS (
           INSERT INTO listen (id, user_id, track_id, artist_id, album_id, listened_at, track_name, artist_name, release_name,
             recording_mbid, release_mbid, release_group_mbid, artist_mbids, track_number, additional_info,
             track_duration_ms, listened_ms, source, client)
           SELECT gen_random_uuid(), $1, m.match_id, t.artist_id, t.album_id, m.listened_at, m.track_name, m.artist_name,
             m.release_name, coalesce(m.recording_mbid, t.mbid), coalesce(m.release_mbid, a.mbid),
             coalesce(m.release_group_mbid, a.release_group_mbid), m.artist_mbids, coalesce(m.track_number, t.track_number),
             m.additional_info, m.duration_ms, m.listened_ms, $3, m.client
           FROM matched m LEFT JOIN track t ON t.id = m.match_id LEFT JOIN album a ON a.id = t.album_id
           ORDER BY m.listened_at
           ON CONFLICT (user_id, listened_at, dedup_key) DO NOTHING
           RETURNING id, track_id, listened_at),
         counted AS (${PLAY_COUNTS("added", "$1::uuid")})
         SELECT id FROM added`,
        [userId, JSON.stringify(listens.map(inputRow)), source],
      );
      const added = rows.map((r) => r.id);
      // The person's open history and statistics pages read again when this commits.
      if (added.length) await notifyListenEvent(sql, LISTENS_EVENTS_CHANNEL, userId);
      // Relays to the person's ListenBrainz / Last.fm accounts commit with the listens (issue 18 point 7).
      await queueListenRelays(sql, userId, added, source);
      return added;
    });
    return { accepted: ids.length, duplicates: listens.length - ids.length };
  }

  /**
   * What the person plays now on one player (the listen's client, else the source): replaces that
   * player's previous report, lapses after the track's length (NOW_PLAYING_FALLBACK_MS when unknown).
   */
  async playingNow(userId: string, listen: Omit<SubmittedListen, "listenedAt">, source: ListenSource): Promise<void> {
    await this.#db.pool.query(
      `WITH libs AS (SELECT ${visibleLibraryIdsSql("$1")} AS ids),
       matched AS (SELECT i.*, ${MATCH} AS match_id FROM ${INPUT_ROWS}, libs)
       INSERT INTO now_playing (user_id, client, track_id, track_name, artist_name, release_name, duration_ms, source,
         additional_info, started_at, expires_at)
       SELECT $1, coalesce(m.client, $3), m.match_id, m.track_name, m.artist_name, m.release_name, m.duration_ms, $3,
         m.additional_info, now(), now() + make_interval(secs => coalesce(m.duration_ms, $4) / 1000.0)
       FROM matched m
       ON CONFLICT (user_id, client) DO UPDATE SET track_id = EXCLUDED.track_id, track_name = EXCLUDED.track_name,
         artist_name = EXCLUDED.artist_name, release_name = EXCLUDED.release_name, duration_ms = EXCLUDED.duration_ms,
         source = EXCLUDED.source, additional_info = EXCLUDED.additional_info, started_at = EXCLUDED.started_at,
         expires_at = EXCLUDED.expires_at`,
      [userId, JSON.stringify([inputRow(listen)]), source, NOW_PLAYING_FALLBACK_MS],
    );
    await notifyListenEvent(this.#db.pool, NOW_PLAYING_EVENTS_CHANNEL, userId);
    const { artistName, trackName, releaseName, durationMs, recordingMbid } = listen;
    await queueNowPlayingRelays(this.#db.pool, userId, { artistName, trackName, releaseName, durationMs, recordingMbid }, source);
    // Lapsed reports are never read again; the table stays as small as the number of active players.
    await this.#db.pool.query("DELETE FROM now_playing WHERE expires_at <= now()");
  }
}

const LISTEN_COLUMNS: ListenColumns = {
  trackName: "ls.track_name",
  artistName: "ls.artist_name",
  releaseName: "ls.release_name",
  durationMs: "ls.track_duration_ms",
  recordingMbid: "ls.recording_mbid",
};

/** SQL: play counts and last played (Subsonic) of the matched listens in CTE `rows` (track_id, listened_at) of `user`. */
const PLAY_COUNTS = (rows: string, user: string) => `
  INSERT INTO play_stat (user_id, track_id, play_count, last_played_at)
  SELECT ${user}, r.track_id, count(*), max(r.listened_at) FROM ${rows} r
  WHERE r.track_id IS NOT NULL GROUP BY 1, 2
  ON CONFLICT (user_id, track_id) DO UPDATE
    SET play_count = play_stat.play_count + EXCLUDED.play_count,
        last_played_at = greatest(play_stat.last_played_at, EXCLUDED.last_played_at)`;

/**
 * Links the listens still without a track to `trackIds` (tracks just imported) where they match, for
 * listeners who may see them. Set-based, reading only unmatched listens with those recording MBIDs or
 * titles (partial indexes, migration 0023). Runs on `client`: the importer calls it in the transaction
 * that finishes a batch of uploads (core/library/importer.ts).
 */
export async function linkUnmatchedListens(client: pg.PoolClient, trackIds: string[]): Promise<number> {
  if (!trackIds.length) return 0;
  // Most imports find no listen waiting (a new server, a library imported before anyone plays): one look
  // at the unmatched listens' partial index spares the matching query, ~10 ms of PostgreSQL a chunk.
  const waiting = await client.query("SELECT 1 FROM listen WHERE track_id IS NULL LIMIT 1");
  if (!waiting.rowCount) return 0;
  const { rows } = await client.query<{ id: string }>(
    `WITH new_tracks AS (SELECT t.id, t.mbid, search_normalize(t.title) AS title_key FROM track t WHERE t.id = ANY($1::uuid[])),
     waiting AS (
       SELECT ls.id, ls.user_id, ${matchedTrackSql(LISTEN_COLUMNS, visibleLibraryIdsSql("ls.user_id"), "t.id = ANY($1::uuid[])")} AS match_id
       FROM listen ls
       WHERE ls.track_id IS NULL AND (
         (ls.recording_mbid IS NOT NULL AND ls.recording_mbid IN (SELECT mbid FROM new_tracks WHERE mbid IS NOT NULL))
         OR search_normalize(ls.track_name) IN (SELECT title_key FROM new_tracks))),
     linked AS (
       UPDATE listen l SET track_id = t.id, artist_id = t.artist_id, album_id = t.album_id,
         recording_mbid = coalesce(l.recording_mbid, t.mbid)
       FROM waiting w JOIN track t ON t.id = w.match_id
       WHERE l.id = w.id AND l.track_id IS NULL
       RETURNING l.id, l.user_id, l.track_id, l.listened_at),
     counted AS (${PLAY_COUNTS("linked", "r.user_id")})
     SELECT id FROM linked`,
    [trackIds],
  );
  return rows.length;
}

