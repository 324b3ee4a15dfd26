import { Router } from "express";
import { z } from "zod";
import { SORTS } from "../../core/catalog/browse.queries.ts";
import { ITEM_KINDS, type ItemKind } from "../../core/catalog/user-data.service.ts";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import type { ServerDeps } from "../deps.ts";
import { albumOrArtistDto, trackDto } from "./catalog-urls.ts";
import type { Operation } from "../http/openapi.ts";

const flag = z.enum(["true", "false"]).transform((v) => v === "true");
const browseQuery = (kind: ItemKind) =>
  z.strictObject({
    sort: z.enum(SORTS[kind]).default("name"),
    order: z.enum(["asc", "desc"]).optional(),
    seed: z.string().max(64).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
    library: z.uuid().optional(),
    genre: z.string().min(1).max(100).optional(),
    yearFrom: z.coerce.number().int().min(0).max(9999).optional(),
    yearTo: z.coerce.number().int().min(0).max(9999).optional(),
    artist: z.uuid().optional(),
    favorites: flag.optional(),
  });
const kindParam = z.enum(ITEM_KINDS);
const ratingBody = z.strictObject({ rating: z.number().int().min(1).max(5) });
const genresQuery = z.strictObject({ sort: z.enum(["name", "tracks"]).default("name") });
const similarQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(20) });

export const catalogOperations: Operation[] = [
  ...ITEM_KINDS.map((kind): Operation => ({ method: "get", path: `/${kind}`, tag: "Catalog", summary: `Browse ${kind}`, query: browseQuery(kind) })),
  ...ITEM_KINDS.map((kind): Operation => ({ method: "get", path: `/${kind}/:id`, tag: "Catalog", summary: `One of the ${kind}, with details` })),
  {
    method: "get",
    path: "/tracks/:id/similar",
    tag: "Catalog",
    summary: "More like this: the analysed tracks you may see nearest in audio features, nearest first (analysed: false when this one is not analysed yet)",
    query: similarQuery,
  },
  { method: "get", path: "/genres", tag: "Catalog", summary: "Genres with counts", query: genresQuery },
  { method: "put", path: "/favorites/:kind/:id", tag: "Catalog", summary: "Mark as favourite", auth: true, status: 204 },
  { method: "delete", path: "/favorites/:kind/:id", tag: "Catalog", summary: "Unmark favourite", auth: true, status: 204 },
  { method: "put", path: "/ratings/:kind/:id", tag: "Catalog", summary: "Rate 1 to 5", auth: true, body: ratingBody },
  { method: "delete", path: "/ratings/:kind/:id", tag: "Catalog", summary: "Clear a rating", auth: true, status: 204 },
  { method: "post", path: "/tracks/:id/plays", tag: "Catalog", summary: "Record a play (a listen, play count and last played)", auth: true, status: 201 },
];

/** Browse and detail endpoints, genres, favourites, ratings and plays (REST under /api/v1). */
export function catalogRoutes(deps: ServerDeps): Router {
  const router = Router();
  const { catalog, userData, listens } = deps;
  const viewer = (res: { locals: { auth?: { user: { id: string } } } }) => res.locals.auth?.user.id ?? null;

  for (const kind of ITEM_KINDS) {
    router.get(`/${kind}`, handle(async (req, res) => {
      const page = await catalog.browse(kind, viewer(res), parse(browseQuery(kind), req.query));
      const items = page.items as Parameters<typeof albumOrArtistDto>[0][] & Parameters<typeof trackDto>[0][];
      return { ...page, items: kind === "tracks" ? items.map(trackDto) : items.map(albumOrArtistDto) };
    }));
  }
  router.get("/artists/:id", handle(async (req, res) => albumOrArtistDto(await catalog.artist(viewer(res), pathId(req.params.id, "artist")))));
  router.get("/albums/:id", handle(async (req, res) => albumOrArtistDto(await catalog.album(viewer(res), pathId(req.params.id, "album")))));
  router.get("/tracks/:id", handle(async (req, res) => trackDto(await catalog.track(viewer(res), pathId(req.params.id, "track")))));
  router.get("/tracks/:id/similar", handle(async (req, res) => {
    const { limit } = parse(similarQuery, req.query);
    const similar = await catalog.similarTracks(viewer(res), pathId(req.params.id, "track"), limit, { trackOnly: true });
    return { analysed: similar.analysed, items: similar.items.map(trackDto) };
  }));
  router.get(
    "/genres",
    handle(async (req, res) => {
      const { sort } = parse(genresQuery, req.query);
      return { items: await catalog.genres(viewer(res), sort) };
    }),
  );

  const target = (params: Record<string, string | string[] | undefined>) => {
    const kind = parse(kindParam, params.kind);
    return { kind, id: pathId(params.id, kind.slice(0, -1)) };
  };
  router.put("/favorites/:kind/:id", requireUser, handle(async (req, res) => {
    const { kind, id } = target(req.params);
    await userData.setFavorite(currentAuth(res).user.id, kind, id, true);
    return undefined;
  }));
  router.delete("/favorites/:kind/:id", requireUser, handle(async (req, res) => {
    const { kind, id } = target(req.params);
    await userData.setFavorite(currentAuth(res).user.id, kind, id, false);
    return undefined;
  }));
  router.put("/ratings/:kind/:id", requireUser, handle(async (req, res) => {
    const { kind, id } = target(req.params);
    const { rating } = parse(ratingBody, req.body);
    await userData.setRating(currentAuth(res).user.id, kind, id, rating);
    return { rating };
  }));
  router.delete("/ratings/:kind/:id", requireUser, handle(async (req, res) => {
    const { kind, id } = target(req.params);
    await userData.setRating(currentAuth(res).user.id, kind, id, null);
    return undefined;
  }));
  router.post("/tracks/:id/plays", requireUser, handle(async (req, res) =>
    listens.record(currentAuth(res).user.id, pathId(req.params.id, "track"), { source: "web" }), 201));
  return router;
}
