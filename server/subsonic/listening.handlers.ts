import { createHash } from "node:crypto";
import { orNotFound, songElems } from "./browsing.handlers.ts";
import type { SubsonicContext, SubsonicHandler } from "./context.ts";
import { SubsonicError } from "./response.ts";
import { nowPlayingEntryElem, playQueueElem } from "./serializers.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Repeated song ids; a malformed one names nothing (70). */
function songIds(ctx: SubsonicContext): string[] {
  const ids = ctx.params.all("id");
  if (ids.some((id) => !UUID.test(id))) throw new SubsonicError(70, "Requested data was not found");
  return ids.map((id) => id.toLowerCase());
}

/** The player's name (`c`, which every request carries); it keys now-playing and names who saved a queue. */
const clientOf = (ctx: SubsonicContext) => ctx.params.get("c") || "unknown";

/** Subsonic wants an int per player: the first 31 bits of SHA-256 over user and player name, stable. */
const playerId = (userId: string, client: string) => createHash("sha256").update(`${userId}\0${client}`).digest().readUInt32BE(0) & 0x7fffffff;

/** `time` of each id (ms since the epoch), paired by position; absent means now. */
function playTimes(ctx: SubsonicContext): (Date | undefined)[] {
  return ctx.params.all("time").map((value) => {
    const at = /^\d+$/.test(value) ? new Date(Number(value)) : undefined;
    // Past year 275760 a Date is invalid: a value that large is no time either.
    if (!at || Number.isNaN(at.getTime())) throw new SubsonicError(0, "Parameter 'time' must be milliseconds since the epoch");
    return at;
  });
}

export const listeningHandlers: Record<string, SubsonicHandler> = {
  // submission=false: "now playing" on this player, no play counted. Otherwise each id is a finished
  // play at its `time`: a listen, play count and last played (a resent scrobble counts once).
  async scrobble(ctx) {
    const ids = songIds(ctx);
    if (!ids.length) throw new SubsonicError(10, "Required parameter 'id' is missing");
    const { listens } = ctx.services;
    const client = clientOf(ctx);
    if (["false", "0"].includes(ctx.params.get("submission") ?? "")) {
      for (const id of ids) await orNotFound(listens.setNowPlaying(ctx.user.id, id, client));
      return {};
    }
    const times = playTimes(ctx);
    for (const [i, id] of ids.entries()) {
      await orNotFound(listens.record(ctx.user.id, id, { at: times[i], source: "subsonic", client }));
    }
    return {};
  },

  async getNowPlaying(ctx) {
    const entries = await ctx.services.listens.nowPlaying(ctx.user.id);
    const songs = await songElems(ctx, entries.map((e) => e.trackId));
    const now = Date.now();
    const entry = entries.map((e, i) =>
      nowPlayingEntryElem(songs[i]!, {
        username: e.username,
        minutesAgo: Math.max(0, Math.floor((now - Date.parse(e.startedAt)) / 60_000)),
        playerId: playerId(e.userId, e.client),
        playerName: e.client,
      }),
    );
    return { nowPlaying: { entry } };
  },

  // No id clears the queue (OpenSubsonic); `current` defaults to the first track.
  async savePlayQueue(ctx) {
    const trackIds = songIds(ctx);
    const current = ctx.params.get("current");
    if (current !== undefined && current !== "" && !UUID.test(current)) throw new SubsonicError(70, "Requested data was not found");
    const position = ctx.params.int("position") ?? 0;
    await orNotFound(ctx.services.playQueue.save(ctx.user.id, {
      trackIds,
      currentTrackId: current ? current.toLowerCase() : undefined,
      positionMs: position,
      client: clientOf(ctx),
    }));
    return {};
  },

  // Without a saved queue the answer carries no playQueue, as Navidrome's.
  async getPlayQueue(ctx) {
    const queue = await ctx.services.playQueue.get(ctx.user.id);
    if (!queue) return {};
    const entry = await songElems(ctx, queue.trackIds);
    return { playQueue: playQueueElem(queue, ctx.user.username, entry) };
  },
};
