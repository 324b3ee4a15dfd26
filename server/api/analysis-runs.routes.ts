import { Router } from "express";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import type { ServerDeps } from "../deps.ts";
import type { Operation } from "../http/openapi.ts";

const RETURNS =
  "`{ tracks, analysed, failed, run: { id, state: preparing|running|finished, analyserVersion, startedAt, total, done, failed, tracksPerSecond, secondsLeft } | null }`";

export const analysisRunOperations: Operation[] = [
  {
    method: "post",
    path: "/libraries/:id/analysis-run",
    tag: "Libraries",
    summary:
      "Analyse what your library is missing: its tracks never analysed, that failed, or measured by an older analyser, each by a background job (owner or administrator). A run still going is answered instead of a second one",
    auth: true,
    status: 202,
    returns: RETURNS,
  },
  {
    method: "get",
    path: "/libraries/:id/analysis-run",
    tag: "Libraries",
    summary: "Your library's tracks counted by analysis, and the latest analysis run's progress: done / total, rate and time left (owner or administrator)",
    auth: true,
    returns: RETURNS,
  },
];

/** A library's audio analysis runs (AnalysisRunsService); the `analysis` live event says when to read again. */
export function analysisRunRoutes(deps: ServerDeps): Router {
  const router = Router();
  router.post(
    "/:id/analysis-run",
    requireUser,
    handle(async (req, res) => deps.analysisRuns.start(currentAuth(res).user, pathId(req.params.id, "library")), 202),
  );
  router.get(
    "/:id/analysis-run",
    requireUser,
    handle(async (req, res) => deps.analysisRuns.progress(currentAuth(res).user, pathId(req.params.id, "library"))),
  );
  return router;
}
