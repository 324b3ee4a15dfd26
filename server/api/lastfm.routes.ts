import { Router } from "express";
import { z } from "zod";
import { Forbidden } from "../../core/errors.ts";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import type { Operation } from "../http/openapi.ts";
import { NOW_PLAYING_PATH } from "../lastfm/audioscrobbler.router.ts";
import type { ServerDeps } from "../deps.ts";

const newApp = z.strictObject({ name: z.string().trim().min(1).max(100) });
const listQuery = z.object({ all: z.enum(["true", "false"]).optional() });
const approval = z.strictObject({ apiKey: z.string().min(1).max(64), token: z.string().min(1).max(64) });
const pending = z.object({ api_key: z.string().min(1).max(64), token: z.string().min(1).max(64) });

export const lastfmOperations: Operation[] = [
  { method: "get", path: "/lastfm/apps", tag: "Last.fm", summary: "Your Last.fm applications (API key and secret); ?all=true: every application (administrators, no secrets)", auth: true },
  { method: "post", path: "/lastfm/apps", tag: "Last.fm", summary: "Register a Last.fm application: an API key and shared secret for a scrobbler", auth: true, body: newApp, status: 201 },
  { method: "delete", path: "/lastfm/apps/:id", tag: "Last.fm", summary: "Remove an application and its sessions (its owner, or an administrator)", auth: true, status: 204 },
  { method: "get", path: "/lastfm/auth", tag: "Last.fm", summary: "Which application asks to scrobble for you (api_key and token of auth.getToken)", auth: true },
  { method: "post", path: "/lastfm/auth", tag: "Last.fm", summary: "Let the application of that token scrobble for you; it then calls auth.getSession", auth: true, body: approval, status: 204 },
  { method: "get", path: "/me/scrobbler", tag: "Last.fm", summary: "Your AudioScrobbler 1.2 password and the handshake URL for older players (made on first call)", auth: true },
  { method: "post", path: "/me/scrobbler/regenerate", tag: "Last.fm", summary: "A new AudioScrobbler password (players must sign in again)", auth: true },
];

/** Last.fm applications, the browser approval of auth.getToken's tokens, and the AudioScrobbler password. */
export function lastfmRoutes(deps: ServerDeps): Router {
  const router = Router();
  const { apps, auth, audioscrobbler } = deps.lastfm;
  const scrobbler = (username: string, password: string) => ({
    username,
    password,
    // Players ask for a "handshake URL" or a "server": the server root answers `?hs=true` too.
    handshakeUrl: new URL("audioscrobbler/", deps.config.http.publicUrl).href,
    nowPlayingUrl: new URL(NOW_PLAYING_PATH, deps.config.http.publicUrl).href,
  });

  router.get("/lastfm/apps", requireUser, handle(async (req, res) => {
    const { user } = currentAuth(res);
    if (parse(listQuery, req.query).all === "true") {
      if (user.role !== "admin") throw new Forbidden("Only administrators can do this");
      return { items: await apps.listAll() };
    }
    return { items: await apps.listOwn(user.id) };
  }));
  router.post("/lastfm/apps", requireUser, handle(async (req, res) => apps.create(currentAuth(res).user.id, parse(newApp, req.body).name), 201));
  router.delete("/lastfm/apps/:id", requireUser, handle(async (req, res) => {
    await apps.remove(currentAuth(res).user, pathId(req.params.id, "application"));
  }));

  router.get("/lastfm/auth", requireUser, handle(async (req) => {
    const { api_key: apiKey, token } = parse(pending, req.query);
    return auth.pendingToken(apiKey, token);
  }));
  router.post("/lastfm/auth", requireUser, handle(async (req, res) => {
    const { apiKey, token } = parse(approval, req.body);
    await auth.approve(currentAuth(res).user.id, apiKey, token);
  }));

  router.get("/me/scrobbler", requireUser, handle(async (_req, res) => {
    const { user } = currentAuth(res);
    return scrobbler(user.username, await audioscrobbler.password(user.id));
  }));
  router.post("/me/scrobbler/regenerate", requireUser, handle(async (_req, res) => {
    const { user } = currentAuth(res);
    return scrobbler(user.username, await audioscrobbler.regeneratePassword(user.id));
  }));
  return router;
}
