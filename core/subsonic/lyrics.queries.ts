import type pg from "pg";
import { visibleCopiesSql } from "../catalog/catalog-read.ts";
import { normalizeName } from "../library/normalize.ts";

// Lyrics kept with each upload (from its tags), read from the copies the viewer may hear.

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
     FROM track t, LATERAL (SELECT u.lyrics, u.lyrics_synced FROM ${visibleCopiesSql("t.id", { viewer: "$1" })}
       ORDER BY (u.lyrics IS NULL), u.lyrics_synced DESC NULLS LAST LIMIT 1) u
     WHERE t.id = $2`,
    [viewerId, trackId],
  );
  const row = rows[0];
  return row && { lyrics: row.lyrics, synced: Boolean(row.lyrics_synced), title: row.title, artist: row.artist };
}

/** Lyrics of a visible song with this title (and, when given, an artist of this name), as stored. */
export async function lyricsByName(pool: pg.Pool, viewerId: string, artist: string, title: string): Promise<{ lyrics: string; synced: boolean } | undefined> {
  const { rows } = await pool.query<{ lyrics: string; synced: boolean | null }>(
    `SELECT u.lyrics, u.lyrics_synced AS synced FROM track t, LATERAL (SELECT u.lyrics, u.lyrics_synced
       FROM ${visibleCopiesSql("t.id", { viewer: "$1" })} AND u.lyrics IS NOT NULL LIMIT 1) u
     WHERE t.normalized_title = $2
       AND ($3 = '' OR EXISTS (SELECT 1 FROM artist_credit c JOIN artist a ON a.id = c.artist_id WHERE c.track_id = t.id AND a.normalized_name = $3))
     LIMIT 1`,
    [viewerId, normalizeName(title), normalizeName(artist)],
  );
  const row = rows[0];
  return row && { lyrics: row.lyrics, synced: Boolean(row.synced) };
}
