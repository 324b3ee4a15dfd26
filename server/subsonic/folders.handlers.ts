import { artistElems, entityId, libraryOf, orNotFound } from "./browsing.handlers.ts";
import type { SubsonicContext, SubsonicHandler } from "./context.ts";
import { SubsonicError, type Elem } from "./response.ts";
import { albumChildElem, artistIndex, directoryElem, folderArtistElem, IGNORED_ARTICLES, songElem } from "./serializers.ts";

// The folder model over our catalog, as Navidrome does it: no real folders, but artist -> albums ->
// songs, with the same ids getArtists/getAlbum use (any id works in either model).

/** An artist or album the caller may see; anything else (hidden or missing alike) is not a directory. */
async function directoryKind(ctx: SubsonicContext, id: string): Promise<"artists" | "albums"> {
  const kind = await ctx.services.catalog.visibleKindOf(ctx.user.id, id, ["artists", "albums"]);
  if (!kind) throw new SubsonicError(70, "Directory not found");
  return kind as "artists" | "albums";
}

async function artistDirectory(ctx: SubsonicContext, id: string): Promise<Elem> {
  const artist = await orNotFound(ctx.services.catalog.artist(ctx.user.id, id, { details: true }));
  const child = artist.albums.map((a) => albumChildElem(a, id));
  return directoryElem({ id, name: artist.name, starred: artist.starredAt ?? undefined, userRating: artist.rating }, child);
}

async function albumDirectory(ctx: SubsonicContext, id: string): Promise<Elem> {
  const album = await orNotFound(ctx.services.catalog.album(ctx.user.id, id, { files: true }));
  return directoryElem(
    { id, parent: album.artist.id, name: album.title, starred: album.starredAt ?? undefined, userRating: album.rating, playCount: album.playCount },
    album.tracks.map(songElem),
  );
}

export const folderHandlers: Record<string, SubsonicHandler> = {
  async getIndexes(ctx) {
    const libraryId = await libraryOf(ctx);
    const lastModified = await ctx.services.subsonicCatalog.lastModified(ctx.user.id, libraryId);
    const since = ctx.params.long("ifModifiedSince");
    // Nothing changed since the client's copy: the envelope without entries.
    if (since !== undefined && since >= lastModified) return { indexes: { ignoredArticles: IGNORED_ARTICLES, lastModified } };
    const artists = await artistElems(ctx, await ctx.services.subsonicCatalog.albumArtistIds(ctx.user.id, libraryId));
    return { indexes: { ignoredArticles: IGNORED_ARTICLES, lastModified, index: artistIndex(artists.map(folderArtistElem)) } };
  },

  async getMusicDirectory(ctx) {
    const id = entityId(ctx);
    const kind = await directoryKind(ctx, id);
    return { directory: kind === "artists" ? await artistDirectory(ctx, id) : await albumDirectory(ctx, id) };
  },
};
