import type { User } from "../../core/accounts/user.entity.ts";
import { NotFound } from "../../core/errors.ts";
import type { PlaylistsService, PlaylistRow } from "../../core/playlists/playlists.service.ts";
import type { PlaylistItemRow } from "../../core/playlists/playlist-items.ts";
import { entityId, songElems } from "./browsing.handlers.ts";
import type { SubsonicContext, SubsonicHandler } from "./context.ts";
import { SubsonicError, type Elem } from "./response.ts";

const ALL = { limit: 10_000, offset: 0 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const service = (ctx: SubsonicContext): PlaylistsService => ctx.services.playlists;

/** The playlist services only read the caller's id and role. */
const asUser = (ctx: SubsonicContext) => ({ id: ctx.user.id, username: ctx.user.username, role: ctx.user.role }) as unknown as User;

async function as70<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof NotFound) throw new SubsonicError(70, error.message);
    throw error;
  }
}

function playlistElem(p: PlaylistRow, songCount = p.item_count): Elem {
  return {
    id: p.id,
    name: p.name,
    comment: p.description || undefined,
    owner: p.owner_username,
    public: p.privacy !== "private",
    // OpenSubsonic: a playlist followed from another server cannot be changed here, nor a smart one
    // (its songs come from its rules: edited in the web UI).
    readonly: p.owner_id === null || p.rules !== null ? true : undefined,
    songCount,
    duration: Math.round(Number(p.duration_ms) / 1000),
    created: new Date(p.created_at).toISOString(),
    changed: new Date(p.updated_at).toISOString(),
  };
}

/** Subsonic clients see only playable entries; their indexes are positions in that list. */
/**
 * A write to a playlist: one the user may read but does not own answers 50 (not authorised), as
 * Navidrome does; one they cannot see stays 70, like a missing one (its existence is not revealed).
 */
async function ownerWrite<T>(ctx: SubsonicContext, id: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof NotFound)) throw error;
    const playlist = await service(ctx).get(asUser(ctx), id).catch(() => undefined);
    // Their own playlist: what was not found is something else (a song).
    const othersReadable = playlist !== undefined && playlist.owner_id !== ctx.user.id;
    throw othersReadable ? new SubsonicError(50, "Only the playlist's owner can change it") : new SubsonicError(70, error.message);
  }
}

/** A smart playlist is read-only to Subsonic clients (50, before anything is written). */
async function refuseSmart(ctx: SubsonicContext, id: string): Promise<void> {
  const playlist = await service(ctx).get(asUser(ctx), id).catch(() => undefined);
  if (playlist?.rules) throw new SubsonicError(50, "A smart playlist's songs come from its rules: change them in the web UI");
}

async function playableItems(ctx: SubsonicContext, id: string): Promise<PlaylistItemRow[]> {
  return (await as70(service(ctx).items(asUser(ctx), id, ALL))).filter((i) => i.track_id);
}

async function withEntries(ctx: SubsonicContext, id: string): Promise<Elem> {
  const { playlist, items: all } = await as70(service(ctx).withItems(asUser(ctx), id, ALL));
  const items = all.filter((i) => i.track_id);
  const entry = await songElems(ctx, items.map((i) => i.track_id!));
  return { ...playlistElem(playlist, entry.length), entry };
}

/** Song ids the caller may see; any other (missing, malformed or hidden alike) is 70 before anything is written. */
async function songIds(ctx: SubsonicContext, name: string): Promise<string[]> {
  const ids = ctx.params.all(name);
  if (ids.some((id) => !UUID.test(id))) throw new SubsonicError(70, "Requested data was not found");
  const songs = ids.map((id) => id.toLowerCase());
  await as70(service(ctx).assertVisibleTracks(ctx.user, songs));
  return songs;
}

/** The items at `songIndexToRemove`, highest index first (earlier removals then shift no later one). */
async function itemsToRemove(ctx: SubsonicContext, id: string): Promise<PlaylistItemRow[]> {
  const indexes = [...new Set(ctx.params.all("songIndexToRemove").map(Number))].sort((a, b) => b - a);
  if (!indexes.length) return [];
  const items = await playableItems(ctx, id);
  return indexes.map((index) => {
    const item = items[index];
    if (!Number.isInteger(index) || !item) throw new SubsonicError(0, `No song at index ${index}`);
    return item;
  });
}

export const playlistHandlers: Record<string, SubsonicHandler> = {
  async getPlaylists(ctx) {
    const { items } = await service(ctx).list(asUser(ctx), "visible", { limit: 500, offset: 0 });
    return { playlists: { playlist: items.map((p) => playlistElem(p)) } };
  },

  async getPlaylist(ctx) {
    return { playlist: await withEntries(ctx, entityId(ctx)) };
  },

  // With playlistId it replaces the songs of that playlist; either way it returns the playlist.
  async createPlaylist(ctx) {
    const playlists = service(ctx);
    const existing = ctx.params.get("playlistId") === undefined ? undefined : entityId(ctx, "playlistId");
    if (existing) await refuseSmart(ctx, existing);
    const name = existing ? undefined : ctx.params.required("name");
    const songs = await songIds(ctx, "songId");
    const id = existing ?? (await playlists.create(asUser(ctx), { name: name! })).id;
    await ownerWrite(ctx, id, playlists.replaceTracks(asUser(ctx), id, songs)).catch(async (error: unknown) => {
      // A song hidden since it was checked: the playlist made for it goes too.
      if (!existing) await playlists.delete(asUser(ctx), id);
      throw error;
    });
    return { playlist: await withEntries(ctx, id) };
  },

  async updatePlaylist(ctx) {
    const id = entityId(ctx, "playlistId");
    const playlists = service(ctx);
    await refuseSmart(ctx, id);
    // Everything is checked before the first write: a bad index or song changes nothing.
    const add = await songIds(ctx, "songIdToAdd");
    const remove = await itemsToRemove(ctx, id);
    const name = ctx.params.get("name");
    const comment = ctx.params.get("comment");
    const pub = ctx.params.get("public");
    if (name !== undefined || comment !== undefined || pub !== undefined) {
      const privacy = pub === undefined ? undefined : pub === "true" ? "public" : "private";
      await ownerWrite(ctx, id, playlists.update(asUser(ctx), id, { name, description: comment, privacy }));
    }
    for (const item of remove) await ownerWrite(ctx, id, playlists.removeItem(asUser(ctx), id, item.id));
    if (add.length) await ownerWrite(ctx, id, playlists.addTracks(asUser(ctx), id, add));
    return {};
  },

  async deletePlaylist(ctx) {
    const id = entityId(ctx);
    await ownerWrite(ctx, id, service(ctx).delete(asUser(ctx), id));
    return {};
  },
};
