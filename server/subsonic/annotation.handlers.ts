import { NotFound } from "../../core/errors.ts";
import { ITEM_KINDS, type ItemKind } from "../../core/catalog/user-data.service.ts";
import { entityId, songElems } from "./browsing.handlers.ts";
import type { SubsonicContext, SubsonicHandler } from "./context.ts";
import { SubsonicError } from "./response.ts";
import { albumChildElem, albumElem, artistElem, folderArtistElem } from "./serializers.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `id` may name a song, an album or an artist (folder-based clients star any of them through `id`).
 * Only what the caller may see counts: another user's hidden album is answered like a missing one.
 */
async function kindOf(ctx: SubsonicContext, id: string, kinds: readonly ItemKind[] = ITEM_KINDS): Promise<ItemKind> {
  const kind = await ctx.services.catalog.visibleKindOf(ctx.user.id, id, kinds);
  if (!kind) throw new SubsonicError(70, "Requested data was not found");
  return kind;
}

function ids(ctx: SubsonicContext, name: string): string[] {
  const values = ctx.params.all(name);
  for (const value of values) if (!UUID.test(value)) throw new SubsonicError(70, "Requested data was not found");
  return values.map((v) => v.toLowerCase());
}

async function star(ctx: SubsonicContext, favorite: boolean): Promise<Record<string, never>> {
  const asked: [string, readonly ItemKind[]][] = [
    ...ids(ctx, "id").map((id): [string, readonly ItemKind[]] => [id, ITEM_KINDS]),
    ...ids(ctx, "albumId").map((id): [string, readonly ItemKind[]] => [id, ["albums"]]),
    ...ids(ctx, "artistId").map((id): [string, readonly ItemKind[]] => [id, ["artists"]]),
  ];
  if (!asked.length) throw new SubsonicError(10, "Required parameter 'id', 'albumId' or 'artistId' is missing");
  // Every id is resolved before the first write: one unknown id stars nothing.
  const targets = await Promise.all(asked.map(async ([id, kinds]): Promise<[ItemKind, string]> => [await kindOf(ctx, id, kinds), id]));
  for (const [kind, id] of targets) await notFoundAs70(ctx.services.userData.setFavorite(ctx.user.id, kind, id, favorite));
  return {};
}

async function notFoundAs70<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof NotFound) throw new SubsonicError(70, error.message);
    throw error;
  }
}

/** getStarred2's ID3 types, or getStarred's folder-model ones (Artist, albums as directory entries). */
async function starred(ctx: SubsonicContext, model: "id3" | "folder") {
  const query = { sort: "name", favorites: true, limit: 500, offset: 0 } as const;
  const { catalog } = ctx.services;
  const ids = (kind: ItemKind) => catalog.pageIds(kind, ctx.user.id, query);
  const [artists, albums, song] = await Promise.all([
    catalog.page("artists", ctx.user.id, query),
    ids("albums").then((found) => catalog.albums(ctx.user.id, found, { details: true })),
    ids("tracks").then((found) => songElems(ctx, found)),
  ]);
  return {
    artist: artists.map((a) => (model === "id3" ? artistElem(a) : folderArtistElem(artistElem(a)))),
    album: albums.map((a) => (model === "id3" ? albumElem(a) : albumChildElem(a, a.artist.id))),
    song,
  };
}

export const annotationHandlers: Record<string, SubsonicHandler> = {
  star: (ctx) => star(ctx, true),
  unstar: (ctx) => star(ctx, false),

  async setRating(ctx) {
    const id = entityId(ctx);
    const rating = Number(ctx.params.required("rating"));
    if (!Number.isInteger(rating) || rating < 0 || rating > 5) throw new SubsonicError(0, "rating must be 0 (none) to 5");
    await notFoundAs70(ctx.services.userData.setRating(ctx.user.id, await kindOf(ctx, id), id, rating === 0 ? null : rating));
    return {};
  },

  async getStarred2(ctx) {
    return { starred2: await starred(ctx, "id3") };
  },

  async getStarred(ctx) {
    return { starred: await starred(ctx, "folder") };
  },
};
