import { Router } from "express";
import { VERSION } from "../../config/version.ts";
import { handle } from "../http/handle.ts";
import type { ServerDeps } from "../deps.ts";
import type { Operation } from "../http/openapi.ts";

export const instanceOperations: Operation[] = [
  {
    method: "get",
    path: "/instance",
    tag: "System",
    summary: "This server's name, version and registration mode (public: the sign-up page reads it)",
    returns: "`{ name, version, registration: open|closed|invite }`",
  },
];

export function instanceRoutes(deps: ServerDeps): Router {
  const router = Router();
  router.get(
    "/instance",
    handle(async () => ({
      name: deps.config.http.publicUrl.host,
      version: VERSION,
      registration: await deps.settings.registration(),
    })),
  );
  return router;
}
