import { NotFound } from "../../core/errors.ts";
import { cachedArtistIndex } from "./artist-index.ts";
import type { SubsonicContext, SubsonicHandler } from "./context.ts";
import { SubsonicError, type Elem } from "./response.ts";
import { albumElem, artistElem, artistIndex, IGNORED_ARTICLES, songElem } from "./serializers.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A malformed id names nothing: 70, exactly like an unknown one. */
export function entityId(ctx: SubsonicContext, name = "id"): string {
  const id = ctx.params.required(name);
  if (!UUID.test(id)) throw new SubsonicError(70, "Requested data was not found");
  return id.toLowerCase();
}

/** Core's NotFound (also for things the caller may not see) becomes code 70. */
export async function orNotFound<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof NotFound) throw new SubsonicError(70, error.message);
    throw error;
  }
}

export async function libraryOf(ctx: SubsonicContext): Promise<string | undefined> {
  const folder = ctx.params.int("musicFolderId");
  if (folder === undefined) return undefined;
  const library = (await ctx.services.subsonicCatalog.musicFolders(ctx.user.id)).find((l) => l.folderId === folder);
  if (!library) throw new SubsonicError(70, "Music folder not found");
  return library.id;
}

/** Songs for track ids, in their order (repeats kept, unknown ids left out), with their file details. */
export async function songElems(ctx: SubsonicContext, ids: string[]): Promise<Elem[]> {
  return (await ctx.services.catalog.tracks(ctx.user.id, ids, { files: true })).map(songElem);
}

export async function artistElems(ctx: SubsonicContext, ids: string[]): Promise<Elem[]> {
  return (await ctx.services.catalog.artists(ctx.user.id, ids)).map(artistElem);
}

export const browsingHandlers: Record<string, SubsonicHandler> = {
  async getMusicFolders(ctx) {
    const libraries = await ctx.services.subsonicCatalog.musicFolders(ctx.user.id);
    return { musicFolders: { musicFolder: libraries.map((l) => ({ id: l.folderId, name: l.name })) } };
  },

  async getArtists(ctx) {
    const library = await libraryOf(ctx);
    // Shared by everyone who sees the same libraries: built without this user's stars and ratings.
    const { catalog, subsonicCatalog } = ctx.services;
    const index = await cachedArtistIndex(subsonicCatalog, ctx.user.id, library, async () => {
      const artists = await catalog.artists(ctx.user.id, await subsonicCatalog.albumArtistIds(ctx.user.id, library));
      return artistIndex(artists.map((a) => artistElem({ ...a, rating: null, starredAt: null })));
    });
    return { artists: { ignoredArticles: IGNORED_ARTICLES, index } };
  },

  async getArtist(ctx) {
    const artist = await orNotFound(ctx.services.catalog.artist(ctx.user.id, entityId(ctx), { details: true }));
    const album = artist.albums.map(albumElem);
    // albumCount must match the albums listed (appearances included).
    return { artist: { ...artistElem(artist), albumCount: album.length, album } };
  },

  async getAlbum(ctx) {
    const album = await orNotFound(ctx.services.catalog.album(ctx.user.id, entityId(ctx), { files: true }));
    const song = album.tracks.map(songElem);
    // songCount must equal the number of song entries.
    return { album: { ...albumElem(album), songCount: song.length, song } };
  },

  async getSong(ctx) {
    return { song: songElem(await orNotFound(ctx.services.catalog.track(ctx.user.id, entityId(ctx), { files: true }))) };
  },
};
