import { artistElems, entityId, orNotFound, songElems } from "./browsing.handlers.ts";
import type { SubsonicContext, SubsonicHandler } from "./context.ts";
import { SubsonicError, type Elem } from "./response.ts";
import { albumInfoElem, artistInfoElem, songElem, type ImageUrls } from "./serializers.ts";

// Top songs and artist/album infos from local data only: no biography or notes (we fetch nothing
// from the internet), MusicBrainz ids from tags, images from our own covers.

/**
 * getCoverArt URLs of an album's cover at our stored sizes. They carry no credentials (a response
 * must not hand out reusable secrets): clients authenticate them as they do their own cover requests.
 */
function coverUrls(ctx: SubsonicContext, albumId: string | undefined): ImageUrls | undefined {
  if (!albumId) return undefined;
  const url = (size: number) => new URL(`/rest/getCoverArt.view?id=${albumId}&size=${size}`, ctx.services.publicUrl).href;
  return { small: url(64), medium: url(256), large: url(600) };
}

/** `count` (default `fallback`), at least 0 and at most 500. */
function countOf(ctx: SubsonicContext, fallback: number): number {
  const count = ctx.params.int("count") ?? fallback;
  if (count < 0) throw new SubsonicError(0, "count must not be negative");
  return Math.min(count, 500);
}

async function artistInfo(ctx: SubsonicContext): Promise<Elem> {
  const id = entityId(ctx);
  await orNotFound(ctx.services.catalog.artist(ctx.user.id, id));
  const count = countOf(ctx, 20);
  const [[artist], similar] = await Promise.all([
    artistElems(ctx, [id]),
    count ? ctx.services.subsonicCatalog.similarArtistIds(ctx.user.id, id, count) : Promise.resolve([]),
  ]);
  return artistInfoElem(String(artist!.musicBrainzId) || null, coverUrls(ctx, artist!.coverArt as string | undefined), await artistElems(ctx, similar));
}

async function albumInfo(ctx: SubsonicContext): Promise<Elem> {
  const album = await orNotFound(ctx.services.catalog.album(ctx.user.id, entityId(ctx)));
  return albumInfoElem(album.musicBrainzId, coverUrls(ctx, album.coverAlbumId ?? undefined));
}

/**
 * Songs nearest in audio features (core/analysis/more-like-this.ts) to a song, or to an album's or an
 * artist's songs taken together; empty while none of them is analysed.
 */
async function similarSongs(ctx: SubsonicContext): Promise<Elem> {
  const count = countOf(ctx, 50);
  const id = entityId(ctx);
  const { items } = await ctx.services.catalog.similarTracks(ctx.user.id, id, count, { files: true });
  return { song: items.map(songElem) };
}

export const infoHandlers: Record<string, SubsonicHandler> = {
  async getTopSongs(ctx) {
    const ids = await ctx.services.subsonicCatalog.topTrackIds(ctx.user.id, ctx.params.required("artist"), countOf(ctx, 50));
    return { topSongs: { song: await songElems(ctx, ids) } };
  },

  getSimilarSongs: async (ctx) => ({ similarSongs: await similarSongs(ctx) }),
  getSimilarSongs2: async (ctx) => ({ similarSongs2: await similarSongs(ctx) }),
  getArtistInfo2: async (ctx) => ({ artistInfo2: await artistInfo(ctx) }),
  // The folder model's names for the same answers: our folder ids are the artist and album ids.
  getArtistInfo: async (ctx) => ({ artistInfo: await artistInfo(ctx) }),
  getAlbumInfo2: async (ctx) => ({ albumInfo: await albumInfo(ctx) }),
  getAlbumInfo: async (ctx) => ({ albumInfo: await albumInfo(ctx) }),
};
