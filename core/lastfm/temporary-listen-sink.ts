import type pg from "pg";
import type { ListenSink } from "../listens/listen-submission.ts";

/**
 * TEMPORARY, until the listen ingest (h/listens, core/listens/listen-ingest.ts) is merged: writes the
 * listens as they come, with no matching, and stores the source as 'listenbrainz' because migration
 * 0007's CHECK knows no 'lastfm' yet. Now playing is dropped.
 */
export function temporaryListenSink(pool: pg.Pool): ListenSink {
  return {
    async submit(userId, listens) {
      let accepted = 0;
      for (const l of listens) {
        const { rowCount } = await pool.query(
          `INSERT INTO listen (id, user_id, listened_at, artist_name, track_name, release_name, recording_mbid, track_duration_ms, source, client)
           VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, 'listenbrainz', $8) ON CONFLICT DO NOTHING`,
          [userId, l.listenedAt, l.artistName, l.trackName, l.releaseName ?? null, l.recordingMbid ?? null, l.durationMs ?? null, l.client ?? null],
        );
        accepted += rowCount ?? 0;
      }
      return { accepted, duplicates: listens.length - accepted };
    },
    async playingNow() {},
  };
}
