import type pg from "pg";
import { waitUntil } from "./wait.ts";

/** Waits until no upload of the library is pending (the worker has imported or rejected each one). */
export async function waitForImports(pool: pg.Pool, libraryId: string, timeoutMs = 60_000): Promise<void> {
  await waitUntil(async () => {
    const { rows } = await pool.query(
      "SELECT count(*)::int AS n FROM upload WHERE library_id = $1 AND status = 'pending'",
      [libraryId],
    );
    return rows[0].n === 0 || undefined;
  }, { timeout: timeoutMs, what: "the library's imports" });
}

/**
 * Waits until the worker has analysed what the imports queued (no analyze_track job left), so a test
 * that reads features or ReplayGain sees them settled rather than changing between two requests.
 */
export async function waitForAnalyses(pool: pg.Pool, timeoutMs = 120_000): Promise<void> {
  await waitUntil(async () => {
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'analyze_track'");
    return rows[0].n === 0 || undefined;
  }, { timeout: timeoutMs, what: "the tracks' analyses" });
}

/** Waits until no library scan is queued or running (the files it found are then pending or imported). */
export async function waitForScans(pool: pg.Pool, timeoutMs = 60_000): Promise<void> {
  await waitUntil(async () => {
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'scan_library'");
    return rows[0].n === 0 || undefined;
  }, { timeout: timeoutMs, what: "the library scans" });
}

/** The catalog as one readable structure: albums with artists, tracks with credits and genres. */
export async function catalogSnapshot(pool: pg.Pool) {
  const { rows } = await pool.query(`
    SELECT t.title, a.title AS album, aa.name AS album_artist, a.year, a.compilation, a.mbid AS album_mbid,
           t.track_number, t.disc_number, t.mbid AS recording_mbid,
           (SELECT string_agg(c.credited_name || c.join_phrase, '' ORDER BY c.position) FROM artist_credit c WHERE c.track_id = t.id) AS credit,
           (SELECT array_agg(g.name ORDER BY g.name) FROM track_genre tg JOIN genre g ON g.id = tg.genre_id WHERE tg.track_id = t.id) AS genres
    FROM track t JOIN album a ON a.id = t.album_id JOIN artist aa ON aa.id = a.album_artist_id
    ORDER BY a.title, t.disc_number NULLS FIRST, t.track_number NULLS FIRST, t.title`);
  return rows;
}

export async function countRows(pool: pg.Pool, table: string): Promise<number> {
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0].n;
}
