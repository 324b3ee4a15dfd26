import { Router } from "express";
import { z } from "zod";
import type { RelayCredentials } from "../../core/listens/listen-relay.service.ts";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import type { ServerDeps } from "../deps.ts";
import type { Operation } from "../http/openapi.ts";

const tag = "Listens";
const secret = z.string().trim().min(1).max(200);
const baseUrl = z.url({ protocol: /^https?$/ }).max(500).optional();
const listenBrainzBody = z.object({ token: secret, baseUrl });
const lastfmBody = z.object({ apiKey: secret, secret, sessionKey: secret, baseUrl });

export const listenRelayOperations: Operation[] = [
  { method: "get", path: "/me/listens/relay/listenbrainz", tag, summary: "Your relay to ListenBrainz: address, status, last error (never the token)", auth: true },
  {
    method: "put",
    path: "/me/listens/relay/listenbrainz",
    tag,
    summary: "Relay your new listens to a ListenBrainz account (its user token); restarts a failing relay",
    auth: true,
    body: listenBrainzBody,
  },
  { method: "delete", path: "/me/listens/relay/listenbrainz", tag, summary: "Stop relaying to ListenBrainz", auth: true, status: 204 },
  { method: "get", path: "/me/listens/relay/lastfm", tag, summary: "Your relay to Last.fm: address, status, last error (never the secrets)", auth: true },
  {
    method: "put",
    path: "/me/listens/relay/lastfm",
    tag,
    summary: "Relay your new listens to a Last.fm account (your API key, its secret and a session key); restarts a failing relay",
    auth: true,
    body: lastfmBody,
  },
  { method: "delete", path: "/me/listens/relay/lastfm", tag, summary: "Stop relaying to Last.fm", auth: true, status: 204 },
];

/** The signed-in user's relays of new listens to ListenBrainz and Last.fm (issue 18 point 7). */
export function listenRelayRoutes(deps: ServerDeps): Router {
  const router = Router();
  const relays = deps.listenRelays;
  for (const target of ["listenbrainz", "lastfm"] as const) {
    const path = `/me/listens/relay/${target}`;
    router.get(path, requireUser, handle(async (_req, res) => relays.status(currentAuth(res).user.id, target)));
    router.put(path, requireUser, handle(async (req, res) => {
      const { user } = currentAuth(res);
      const credentials: RelayCredentials = target === "listenbrainz"
        ? { target, token: parse(listenBrainzBody, req.body).token }
        : (({ apiKey, secret, sessionKey }) => ({ target, apiKey, secret, sessionKey }))(parse(lastfmBody, req.body));
      const body = parse(z.object({ baseUrl }).loose(), req.body);
      return relays.save(user.id, credentials, body.baseUrl ?? null);
    }));
    router.delete(path, requireUser, handle(async (_req, res) => {
      await relays.remove(currentAuth(res).user.id, target);
    }, 204));
  }
  return router;
}
