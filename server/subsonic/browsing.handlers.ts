import type { loadTracks } from "../../core/catalog/catalog-items.ts";
import { loadArtists } from "../../core/catalog/catalog-items.ts";
import { NotFound } from "../../core/errors.ts";
import {
  albumArtistIds,
  albumDetails,
  artistStarred,
  trackDetails,
  visibleLibraries,
} from "../../core/subsonic/catalog.queries.ts";
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
  const library = (await visibleLibraries(ctx.pool, ctx.user.id)).find((l) => l.folderId === folder);
  if (!library) throw new SubsonicError(70, "Music folder not found");
  return library.id;
}

export async function songElems(ctx: SubsonicContext, tracks: Awaited<ReturnType<typeof loadTracks>>): Promise<Elem[]> {
  const details = await trackDetails(ctx.pool, tracks.map((t) => t.id), ctx.user.id);
  return tracks.map((t) => songElem(t, details.get(t.id)));
}

export async function artistElems(ctx: SubsonicContext, ids: string[]): Promise<Elem[]> {
  const [artists, starred] = await Promise.all([loadArtists(ctx.pool, ids, ctx.user.id), artistStarred(ctx.pool, ids, ctx.user.id)]);
  return artists.map((a) => artistElem(a, starred.get(a.id)));
}

export const browsingHandlers: Record<string, SubsonicHandler> = {
  async getMusicFolders(ctx) {
    const libraries = await visibleLibraries(ctx.pool, ctx.user.id);
    return { musicFolders: { musicFolder: libraries.map((l) => ({ id: l.folderId, name: l.name })) } };
  },

  async getArtists(ctx) {
    const library = await libraryOf(ctx);
    // Shared by everyone who sees the same libraries: built without this user's stars and ratings.
    const index = await cachedArtistIndex(ctx.pool, ctx.user.id, library, async () => {
      const artists = await loadArtists(ctx.pool, await albumArtistIds(ctx.pool, ctx.user.id, library), ctx.user.id);
      return artistIndex(artists.map((a) => artistElem({ ...a, rating: null }, undefined)));
    });
    return { artists: { ignoredArticles: IGNORED_ARTICLES, index } };
  },

  async getArtist(ctx) {
    const artist = await orNotFound(ctx.catalog.artist(ctx.user.id, entityId(ctx)));
    const [elem] = await artistElems(ctx, [artist.id]);
    const extras = await albumDetails(ctx.pool, artist.albums.map((a) => a.id), ctx.user.id);
    const album = artist.albums.map((a) => albumElem(a, extras.get(a.id)));
    // albumCount must match the albums listed (appearances included).
    return { artist: { ...elem, albumCount: album.length, album } };
  },

  async getAlbum(ctx) {
    const album = await orNotFound(ctx.catalog.album(ctx.user.id, entityId(ctx)));
    const [extras, song] = await Promise.all([albumDetails(ctx.pool, [album.id], ctx.user.id), songElems(ctx, album.tracks)]);
    // songCount must equal the number of song entries.
    return { album: { ...albumElem(album, extras.get(album.id), album.artists), songCount: song.length, song } };
  },

  async getSong(ctx) {
    const track = await orNotFound(ctx.catalog.track(ctx.user.id, entityId(ctx)));
    const [song] = await songElems(ctx, [track]);
    return { song: song! };
  },
};
