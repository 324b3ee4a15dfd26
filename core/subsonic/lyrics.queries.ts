import type pg from "pg";
import { visibleItemSql } from "../catalog/user-data.service.ts";
import { normalizeName } from "../library/normalize.ts";

// Lyrics kept with each upload (from its tags), for the songs the viewer may see.

export interface SongLyrics {
  lyrics: string | null;
  synced: boolean;
  title: string;
  /** The track's credited artists as one line ("A feat. B"). */
  artist: string;
}

/**
 * The lyrics of a visible song: from its copy that has them, timed (LRC) ones first. Undefined when the
 * song is unknown or hidden; `lyrics` null when no copy has any.
 */
export async function songLyrics(pool: pg.Pool, viewerId: string, trackId: string): Promise<SongLyrics | undefined> {
  const { rows } = await pool.query<{ lyrics: string | null; lyrics_synced: boolean | null; title: string; artist: string }>(
    `SELECT u.lyrics, u.lyrics_synced, t.title,
       (SELECT string_agg(c.credited_name || c.join_phrase, '' ORDER BY c.position) FROM artist_credit c WHERE c.track_id = t.id) AS artist
     FROM track t JOIN upload u ON u.track_id = t.id AND u.status = 'finished'
     WHERE t.id = $2 AND ${visibleItemSql("tracks", "t", "$1")} ORDER BY (u.lyrics IS NULL), u.lyrics_synced DESC NULLS LAST LIMIT 1`,
    [viewerId, trackId],
  );
  const row = rows[0];
  return row && { lyrics: row.lyrics, synced: Boolean(row.lyrics_synced), title: row.title, artist: row.artist };
}

/** Lyrics of a visible song with this title (and, when given, an artist of this name), as stored. */
export async function lyricsByName(pool: pg.Pool, viewerId: string, artist: string, title: string): Promise<{ lyrics: string; synced: boolean } | undefined> {
  const { rows } = await pool.query<{ lyrics: string; synced: boolean | null }>(
    `SELECT u.lyrics, u.lyrics_synced AS synced FROM track t JOIN upload u ON u.track_id = t.id AND u.status = 'finished'
     WHERE t.normalized_title = $2 AND u.lyrics IS NOT NULL AND ${visibleItemSql("tracks", "t", "$1")}
       AND ($3 = '' OR EXISTS (SELECT 1 FROM artist_credit c JOIN artist a ON a.id = c.artist_id WHERE c.track_id = t.id AND a.normalized_name = $3))
     LIMIT 1`,
    [viewerId, normalizeName(title), normalizeName(artist)],
  );
  const row = rows[0];
  return row && { lyrics: row.lyrics, synced: Boolean(row.synced) };
}
