import { Router } from "express";
import { z } from "zod";
import { LISTEN_PRIVACIES } from "../../core/listens/listen-access.service.ts";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import type { ServerDeps } from "../deps.ts";
import type { Operation } from "../http/openapi.ts";

export const listenSettingsOperations: Operation[] = [
  { method: "get", path: "/me/listens/settings", tag: "Listens", summary: "Your listen privacy, and whether you have a listen token", auth: true },
  {
    method: "post",
    path: "/me/listens/token",
    tag: "Listens",
    summary: "A new listen token for scrobblers (ListenBrainz API); shown only now, the old one stops working",
    auth: true,
  },
  { method: "put", path: "/me/listens/privacy", tag: "Listens", summary: "Who may read your listens and statistics", auth: true },
];

const privacyBody = z.object({ privacy: z.enum(LISTEN_PRIVACIES) });

/** The signed-in user's listen token (for ListenBrainz-speaking scrobblers) and listen privacy. */
export function listenSettingsRoutes(deps: ServerDeps): Router {
  const router = Router();
  const access = deps.listenAccess;
  router.get("/me/listens/settings", requireUser, handle(async (_req, res) => {
    const { user } = currentAuth(res);
    const [privacy, tokenCreatedAt] = await Promise.all([access.privacy(user.id), access.tokenCreatedAt(user.id)]);
    return { privacy, hasToken: tokenCreatedAt !== null, tokenCreatedAt: tokenCreatedAt?.toISOString() ?? null };
  }));
  router.post("/me/listens/token", requireUser, handle(async (_req, res) => {
    const { user } = currentAuth(res);
    return { token: await access.regenerateToken(user.id) };
  }, 201));
  router.put("/me/listens/privacy", requireUser, handle(async (req, res) => {
    const { user } = currentAuth(res);
    const { privacy } = parse(privacyBody, req.body);
    await access.setPrivacy(user.id, privacy);
    return { privacy };
  }));
  return router;
}
