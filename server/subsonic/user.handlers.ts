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

/** Scans and imports of the caller's own libraries (an administrator's: all of them), and the songs they may see. */
async function scanStatus(ctx: SubsonicContext): Promise<Elem> {
  const { scanning, count, lastScanAt } = await ctx.services.scans.overview(ctx.user);
  return { scanning, count, lastScan: lastScanAt?.toISOString() };
}

export const userHandlers: Record<string, SubsonicHandler> = {
  async getUser(ctx) {
    const username = ctx.params.required("username").toLowerCase();
    if (username !== ctx.user.username && ctx.user.role !== "admin") throw new SubsonicError(50, "You may only read your own user");
    const user = await ctx.services.accounts.findByUsername(username);
    if (!user) throw new SubsonicError(70, "User not found");
    const folders = (await ctx.services.subsonicCatalog.musicFolders(user.id)).map((l) => l.folderId);
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
    const queued = await ctx.services.scans.enqueueAllOf(ctx.user);
    return { scanStatus: { ...(await scanStatus(ctx)), scanning: queued > 0 } };
  },

  async getLyricsBySongId(ctx) {
    const id = entityId(ctx);
    const song = await ctx.services.subsonicCatalog.songLyrics(ctx.user.id, id);
    if (!song) throw new SubsonicError(70, "Song not found");
    const { lyrics, synced, title, artist } = song;
    return { lyricsList: { structuredLyrics: lyrics ? [structured(lyrics, synced, artist, title)] : [] } };
  },

  // The legacy call: plain text for an artist and title; an empty <lyrics/> when we have none.
  async getLyrics(ctx) {
    const artist = ctx.params.get("artist") ?? "";
    const title = ctx.params.get("title") ?? "";
    const row = await ctx.services.subsonicCatalog.lyricsByName(ctx.user.id, artist, title);
    const text = row ? (row.synced ? row.lyrics.replace(/^\[[^\]]*\]/gm, "") : row.lyrics).trim() : undefined;
    return { lyrics: { artist: artist || undefined, title: title || undefined, $text: text } };
  },
};
