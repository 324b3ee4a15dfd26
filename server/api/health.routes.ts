import { Router } from "express";
import type { ServerDeps } from "../deps.ts";
import type { Operation } from "../http/openapi.ts";

export const healthOperations: Operation[] = [
  { method: "get", path: "/health", tag: "System", summary: "Database, worker, job queue and ffmpeg state" },
];

/** Public and cheap: load balancers poll it. It says nothing about users or content. */
export function healthRoutes(deps: ServerDeps): Router {
  const router = Router();
  router.get("/health", async (_req, res) => {
    const report = await deps.system.health(deps.transcoder.status);
    res.status(report.database.ok ? 200 : 503).json(report);
  });
  return router;
}
