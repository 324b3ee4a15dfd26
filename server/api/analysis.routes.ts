import { Router } from "express";
import { z } from "zod";
import type { Scope } from "../../core/analysis/analysis-stats.service.ts";
import { POINT_SAMPLE } from "../../core/analysis/analysis-stats.ts";
import { handle, parse } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import type { Operation } from "../http/openapi.ts";
import type { ServerDeps } from "../deps.ts";

// Audio feature aggregates (issue 20) per scope, and one track's features. Like the catalog, what an
// anonymous caller sees is the public libraries' music; a hidden scope answers 404 like a missing one.

const statsQuery = z.strictObject({
  points: z.coerce.number().int().min(0).max(POINT_SAMPLE).default(POINT_SAMPLE),
});
const RETURNS = "Track and analysed counts, per-feature mean, standard deviation, min and max, superlatives with their track, " +
  "major/minor and 24-key counts, tempo histogram, mean loudness per release year, energy/danceability points";

/** Scopes with an id, by their path under /api/v1. */
const SCOPED: [path: string, scope: Exclude<Scope, "collection">][] = [
  ["/libraries/:id/analysis", "library"],
  ["/albums/:id/analysis", "album"],
  ["/artists/:id/analysis", "artist"],
  ["/playlists/:id/analysis", "playlist"],
];

export const analysisOperations: Operation[] = [
  { method: "get", path: "/analysis/collection", tag: "Audio analysis", summary: "Feature aggregates of everything you may see", query: statsQuery, returns: RETURNS },
  ...SCOPED.map(([path, scope]): Operation => ({
    method: "get", path, tag: "Audio analysis", summary: `Feature aggregates of a ${scope}'s visible tracks`, query: statsQuery, returns: RETURNS,
  })),
  { method: "get", path: "/tracks/:id/analysis", tag: "Audio analysis", summary: "A track's audio features (pending, done or failed with the reason)" },
];

export function analysisRoutes(deps: ServerDeps): Router {
  const router = Router();
  const { analysisStats } = deps;
  const viewer = (res: { locals: { auth?: { user: { id: string } } } }) => res.locals.auth?.user.id ?? null;

  router.get("/analysis/collection", handle(async (req, res) =>
    analysisStats.stats(viewer(res), "collection", null, parse(statsQuery, req.query))));
  for (const [path, scope] of SCOPED) {
    router.get(path, handle(async (req, res) => {
      const id = pathId(req.params.id, scope);
      return analysisStats.stats(viewer(res), scope, id, parse(statsQuery, req.query));
    }));
  }
  router.get("/tracks/:id/analysis", handle(async (req, res) => analysisStats.trackFeatures(viewer(res), pathId(req.params.id, "track"))));
  return router;
}
