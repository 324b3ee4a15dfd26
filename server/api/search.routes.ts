import { Router } from "express";
import { z } from "zod";
import { MAX_LIMIT, MAX_QUERY_LENGTH } from "../../core/search/search.service.ts";
import { handle, parse } from "../http/handle.ts";
import type { Operation } from "../http/openapi.ts";
import type { ServerDeps } from "../deps.ts";
import { searchDto } from "./catalog-urls.ts";

const searchQuery = z.strictObject({
  q: z.string().trim().min(1, "Type something to search for").max(MAX_QUERY_LENGTH),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(10),
});

export const searchOperations: Operation[] = [
  {
    method: "get",
    path: "/search",
    tag: "Search",
    summary: "Artists, albums, tracks and playlists you may see, best first (typos and missing accents forgiven)",
    query: searchQuery,
    returns: "{ artists, albums, tracks, playlists }, each at most `limit` items",
  },
];

/** GET /api/v1/search?q=&limit= (anonymous viewers search public libraries and playlists). */
export function searchRoutes(deps: ServerDeps): Router {
  const router = Router();
  const { search } = deps;
  router.get(
    "/search",
    handle(async (req, res) => {
      const { q, limit } = parse(searchQuery, req.query);
      return searchDto(await search.search(res.locals.auth?.user.id ?? null, q, limit));
    }),
  );
  return router;
}
