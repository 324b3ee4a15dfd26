import type { BrowseQuery } from "../../core/catalog/browse.queries.ts";
import type { ItemKind } from "../../core/catalog/user-data.service.ts";
import { MAX_LIMIT } from "../../core/search/search.service.ts";
import { artistElems, libraryOf, songElems } from "./browsing.handlers.ts";
import type { SubsonicContext, SubsonicHandler } from "./context.ts";
import { SubsonicError, type Elem } from "./response.ts";
import { albumChildElem, albumElem, folderArtistElem } from "./serializers.ts";

interface Window {
  count: number;
  offset: number;
}

function window(ctx: SubsonicContext, kind: string): Window {
  const count = ctx.params.int(`${kind}Count`) ?? 20;
  const offset = ctx.params.int(`${kind}Offset`) ?? 0;
  if (count < 0 || offset < 0) throw new SubsonicError(0, `${kind}Count and ${kind}Offset must not be negative`);
  return { count: Math.min(count, 500), offset };
}

/** Clients send "" or nothing to mean "everything" (to sync a whole library), and may end words with `*`. */
function queryOf(ctx: SubsonicContext): string {
  return (ctx.params.get("query") ?? "").replace(/^""$/, "").replace(/\*+$/, "").trim();
}

/** Everything the user may see, by name: a stable order clients can page through. */
async function everything(ctx: SubsonicContext, kind: ItemKind, w: Window, library: string | undefined): Promise<string[]> {
  if (w.count === 0) return [];
  const query = { sort: "name", limit: w.count, offset: w.offset, ...(library ? { library } : {}) } as BrowseQuery;
  return (await ctx.services.catalog.page(kind, ctx.user.id, query)).map((i) => i.id);
}

/** search3 answers ID3 types; search2 the folder model's (Artist, albums as directory entries). */
async function results(ctx: SubsonicContext, model: "id3" | "folder"): Promise<Elem> {
  const windows = { artists: window(ctx, "artist"), albums: window(ctx, "album"), tracks: window(ctx, "song") };
  const text = queryOf(ctx);
  const library = await libraryOf(ctx);
  let ids: Record<ItemKind, string[]>;
  if (!text) {
    ids = {
      artists: await everything(ctx, "artists", windows.artists, library),
      albums: await everything(ctx, "albums", windows.albums, library),
      tracks: await everything(ctx, "tracks", windows.tracks, library),
    };
  } else {
    // Ranked search returns the best MAX_LIMIT of each kind; pages beyond that are empty.
    const hits = await ctx.services.search.search(ctx.user.id, text, MAX_LIMIT);
    const page = (list: { id: string }[], w: Window) => list.slice(w.offset, w.offset + w.count).map((h) => h.id);
    ids = { artists: page(hits.artists, windows.artists), albums: page(hits.albums, windows.albums), tracks: page(hits.tracks, windows.tracks) };
  }
  // The three kinds load at once, on separate pooled connections: one wait instead of five in a row.
  const [artists, albums, song] = await Promise.all([
    artistElems(ctx, ids.artists),
    ctx.services.catalog.albums(ctx.user.id, ids.albums, { details: true }),
    songElems(ctx, ids.tracks),
  ]);
  return {
    artist: artists.map((a) => (model === "id3" ? a : folderArtistElem(a))),
    album: albums.map((a) => (model === "id3" ? albumElem(a) : albumChildElem(a, a.artist.id))),
    song,
  };
}

export const searchHandlers: Record<string, SubsonicHandler> = {
  search3: async (ctx) => ({ searchResult3: await results(ctx, "id3") }),
  search2: async (ctx) => ({ searchResult2: await results(ctx, "folder") }),
};
