import type { BrowseQuery } from "../../core/catalog/browse.queries.ts";
import { libraryOf, songElems } from "./browsing.handlers.ts";
import type { SubsonicContext, SubsonicHandler } from "./context.ts";
import { SubsonicError, type Elem } from "./response.ts";
import { randomAlbums } from "./random-albums.ts";
import { albumElem } from "./serializers.ts";

/** getAlbumList(2) `type` -> our browse order and filters. */
const LIST_TYPES: Record<string, (ctx: SubsonicContext) => Partial<BrowseQuery>> = {
  random: () => ({ sort: "random" }), // sampled, see albumList
  newest: () => ({ sort: "date_added" }),
  highest: () => ({ sort: "rating", rated: true }),
  frequent: () => ({ sort: "play_count", played: true }),
  recent: () => ({ sort: "last_played", played: true }),
  alphabeticalByName: () => ({ sort: "name" }),
  alphabeticalByArtist: () => ({ sort: "artist" }),
  starred: () => ({ sort: "name", favorites: true }),
  byYear: (ctx) => {
    const from = ctx.params.int("fromYear");
    const to = ctx.params.int("toYear");
    if (from === undefined || to === undefined) throw new SubsonicError(10, "Required parameters 'fromYear' and 'toYear' are missing");
    // fromYear > toYear lists newest first, as the spec says.
    return { sort: "year", order: from > to ? "desc" : "asc", yearFrom: Math.min(from, to), yearTo: Math.max(from, to) };
  },
  byGenre: (ctx) => ({ sort: "name", genre: ctx.params.required("genre") }),
};

function page(ctx: SubsonicContext, fallback: number): { limit: number; offset: number } {
  const size = ctx.params.int("size") ?? fallback;
  const offset = ctx.params.int("offset") ?? 0;
  if (size < 0 || offset < 0) throw new SubsonicError(0, "size and offset must not be negative");
  return { limit: Math.min(Math.max(size, 1), 500), offset };
}

async function libraryFilter(ctx: SubsonicContext): Promise<{ library?: string }> {
  const library = await libraryOf(ctx);
  return library === undefined ? {} : { library };
}

async function albumList(ctx: SubsonicContext): Promise<Elem[]> {
  const type = ctx.params.required("type");
  const variant = LIST_TYPES[type];
  if (!variant) throw new SubsonicError(0, `Unknown album list type '${type}'`);
  const query = { sort: "name", ...variant(ctx), ...page(ctx, 10), ...(await libraryFilter(ctx)) } as BrowseQuery;
  // A random list has no pages: a fresh draw each call (offset ignored).
  const { catalog } = ctx.services;
  if (type === "random") return randomAlbums(catalog, ctx.user, query.library, query.limit);
  const ids = await catalog.pageIds("albums", ctx.user.id, query);
  return (await catalog.albums(ctx.user.id, ids, { details: true })).map(albumElem);
}

export const listHandlers: Record<string, SubsonicHandler> = {
  async getAlbumList2(ctx) {
    return { albumList2: { album: await albumList(ctx) } };
  },

  // The folder-based list: the same albums as directory entries.
  async getAlbumList(ctx) {
    const albums = await albumList(ctx);
    const album = albums.map((a) => ({ ...a, parent: a.artistId, isDir: true, title: a.name, album: a.name, userRating: a.userRating || undefined }));
    return { albumList: { album } };
  },

  async getRandomSongs(ctx) {
    const year = { yearFrom: ctx.params.int("fromYear"), yearTo: ctx.params.int("toYear") };
    const genre = ctx.params.get("genre");
    const filter = { ...year, ...(genre ? { genre } : {}), ...(await libraryFilter(ctx)) };
    const ids = await ctx.services.catalog.sampleIds("tracks", ctx.user.id, filter, page(ctx, 10).limit);
    return { randomSongs: { song: await songElems(ctx, ids) } };
  },

  async getSongsByGenre(ctx) {
    const query = { sort: "name", genre: ctx.params.required("genre"), ...pageFrom(ctx), ...(await libraryFilter(ctx)) } as BrowseQuery;
    return { songsByGenre: { song: await songElems(ctx, await ctx.services.catalog.pageIds("tracks", ctx.user.id, query)) } };
  },

  async getGenres(ctx) {
    const genres = await ctx.services.catalog.genres(ctx.user.id, "name");
    return { genres: { genre: genres.map((g) => ({ $text: g.name, songCount: g.trackCount, albumCount: g.albumCount })) } };
  },
};

/** getSongsByGenre pages with `count` (default 10) and `offset`. */
function pageFrom(ctx: SubsonicContext): { limit: number; offset: number } {
  const count = ctx.params.int("count") ?? 10;
  return { limit: Math.min(Math.max(count, 1), 500), offset: Math.max(ctx.params.int("offset") ?? 0, 0) };
}
