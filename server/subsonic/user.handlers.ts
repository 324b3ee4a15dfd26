import { enqueueScan, SCAN_JOB_KEY_SQL, SCAN_TASK } from "../../core/library/folder-scanner.ts";
import { normalizeName } from "../../core/library/normalize.ts";
import { visibleItemSql } from "../../core/catalog/catalog-read.ts";
import { visibleLibraries } from "../../core/subsonic/catalog.queries.ts";
import { entityId } from "./browsing.handlers.ts";
import type { SubsonicContext, SubsonicHandler } from "./context.ts";
import { SubsonicError, type Elem } from "./response.ts";

const LRC_LINE = /^\[(\d+):(\d{1,2}(?:\.\d+)?)\](.*)$/;

/** OpenSubsonic structured lyrics from our text: timed lines when it is LRC, plain lines otherwise. */
function structured(text: string, synced: boolean, artist: string, title: string): Elem {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() && !/^\[[a-z]+:/i.test(l));
  const line = lines.map((l): Elem => {
    const m = synced ? LRC_LINE.exec(l) : null;
    return m ? { start: Math.round((Number(m[1]) * 60 + Number(m[2])) * 1000), $text: m[3]!.trim() } : { $text: l };
  });
  return { displayArtist: artist, displayTitle: title, lang: "xxx", synced, line };
}

/**
 * Scans and imports of the caller's own libraries (an administrator's: all of them), and the songs
 * they may see: someone else's scan or upload is no business of theirs.
 */
async function scanStatus(ctx: SubsonicContext): Promise<Elem> {
  const mine = (alias: string) => `($2 OR ${alias}.owner_id = $1)`;
  const { rows } = await ctx.pool.query<{ scanning: boolean; count: number; last_scan: string | null }>(
    `SELECT EXISTS (SELECT 1 FROM graphile_worker.jobs j JOIN library l ON j.key = ${SCAN_JOB_KEY_SQL("l.id")}
                    WHERE j.task_identifier = $3 AND ${mine("l")})
         OR EXISTS (SELECT 1 FROM upload u JOIN library l ON l.id = u.library_id WHERE u.status = 'pending' AND ${mine("l")}) AS scanning,
       (SELECT count(*)::int FROM track t WHERE ${visibleItemSql("tracks", "t", "$1")}) AS count,
       (SELECT max(l.last_scan_at) FROM library l WHERE ${mine("l")}) AS last_scan`,
    [ctx.user.id, ctx.user.role === "admin", SCAN_TASK],
  );
  const row = rows[0]!;
  return { scanning: row.scanning, count: row.count, lastScan: row.last_scan ? new Date(row.last_scan).toISOString() : undefined };
}

export const userHandlers: Record<string, SubsonicHandler> = {
  async getUser(ctx) {
    const username = ctx.params.required("username").toLowerCase();
    if (username !== ctx.user.username && ctx.user.role !== "admin") throw new SubsonicError(50, "You may only read your own user");
    const { rows } = await ctx.pool.query<{ id: string; username: string; email: string | null; role: string }>(
      "SELECT id, username, email, role FROM app_user WHERE username = $1",
      [username],
    );
    const user = rows[0];
    if (!user) throw new SubsonicError(70, "User not found");
    const folders = (await visibleLibraries(ctx.pool, user.id)).map((l) => l.folderId);
    const yes = true;
    return {
      user: {
        username: user.username, email: user.email ?? undefined, scrobblingEnabled: yes, adminRole: user.role === "admin",
        settingsRole: yes, downloadRole: yes, uploadRole: yes, playlistRole: yes, coverArtRole: yes, commentRole: false,
        podcastRole: false, streamRole: yes, jukeboxRole: false, shareRole: false, videoConversionRole: false, folder: folders,
      },
    };
  },

  getScanStatus: async (ctx) => ({ scanStatus: await scanStatus(ctx) }),

  // Rescans the music folders of the caller's libraries (all libraries for an administrator).
  async startScan(ctx) {
    const { rows } = await ctx.pool.query<{ id: string }>(
      "SELECT id FROM library WHERE music_folder IS NOT NULL AND (owner_id = $1 OR $2)",
      [ctx.user.id, ctx.user.role === "admin"],
    );
    for (const row of rows) await enqueueScan(ctx.pool, row.id);
    return { scanStatus: { ...(await scanStatus(ctx)), scanning: rows.length > 0 } };
  },

  async getLyricsBySongId(ctx) {
    const id = entityId(ctx);
    const { rows } = await ctx.pool.query<{ lyrics: string | null; lyrics_synced: boolean | null; title: string; artist: string }>(
      `SELECT u.lyrics, u.lyrics_synced, t.title,
         (SELECT string_agg(c.credited_name || c.join_phrase, '' ORDER BY c.position) FROM artist_credit c WHERE c.track_id = t.id) AS artist
       FROM track t JOIN upload u ON u.track_id = t.id AND u.status = 'finished'
       WHERE t.id = $2 AND ${visibleItemSql("tracks", "t", "$1")} ORDER BY (u.lyrics IS NULL), u.lyrics_synced DESC NULLS LAST LIMIT 1`,
      [ctx.user.id, id],
    );
    if (!rows[0]) throw new SubsonicError(70, "Song not found");
    const { lyrics, lyrics_synced, title, artist } = rows[0];
    return { lyricsList: { structuredLyrics: lyrics ? [structured(lyrics, Boolean(lyrics_synced), artist, title)] : [] } };
  },

  // The legacy call: plain text for an artist and title; an empty <lyrics/> when we have none.
  async getLyrics(ctx) {
    const artist = ctx.params.get("artist") ?? "";
    const title = ctx.params.get("title") ?? "";
    const { rows } = await ctx.pool.query<{ lyrics: string; synced: boolean | null }>(
      `SELECT u.lyrics, u.lyrics_synced AS synced FROM track t JOIN upload u ON u.track_id = t.id AND u.status = 'finished'
       WHERE t.normalized_title = $2 AND u.lyrics IS NOT NULL AND ${visibleItemSql("tracks", "t", "$1")}
         AND ($3 = '' OR EXISTS (SELECT 1 FROM artist_credit c JOIN artist a ON a.id = c.artist_id WHERE c.track_id = t.id AND a.normalized_name = $3))
       LIMIT 1`,
      [ctx.user.id, normalizeName(title), normalizeName(artist)],
    );
    const row = rows[0];
    const text = row ? (row.synced ? row.lyrics.replace(/^\[[^\]]*\]/gm, "") : row.lyrics).trim() : undefined;
    return { lyrics: { artist: artist || undefined, title: title || undefined, $text: text } };
  },
};
