import { Router } from "express";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle } from "../http/handle.ts";
import type { ServerDeps } from "../deps.ts";
import type { Operation } from "../http/openapi.ts";

export const subsonicCredentialsOperations: Operation[] = [
  { method: "get", path: "/me/subsonic", tag: "Accounts", summary: "Your Subsonic password and API key (made on first call)", auth: true },
  { method: "post", path: "/me/subsonic/regenerate", tag: "Accounts", summary: "New Subsonic password and API key", auth: true },
];

/** The Subsonic password and API key of the signed-in user, for Subsonic apps (separate from the login password). */
export function subsonicCredentialsRoutes(deps: ServerDeps): Router {
  const router = Router();
  const credentials = deps.subsonicCredentials;
  router.get("/me/subsonic", requireUser, handle(async (_req, res) => {
    const { user } = currentAuth(res);
    return { username: user.username, ...(await credentials.get(user.id)) };
  }));
  router.post("/me/subsonic/regenerate", requireUser, handle(async (_req, res) => {
    const { user } = currentAuth(res);
    return { username: user.username, ...(await credentials.regenerate(user.id)) };
  }));
  return router;
}
