import { Router } from "express";
import { z } from "zod";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import type { Operation } from "../http/openapi.ts";
import type { ServerDeps } from "../deps.ts";

const target = z.string().trim().min(3).max(2048);
const lookupQuery = z.object({ q: target });
const followBody = z.strictObject({ target });
const username = z.string().trim().toLowerCase().min(1).max(100);

export const peopleOperations: Operation[] = [
  {
    method: "get",
    path: "/people/:username",
    tag: "People",
    summary: "A person of this server: their public and instance-wide libraries and playlists",
    auth: true,
    returns: "`{ username, name, handle, actorFid, libraries, playlists }`; 404 for no such person",
  },
  {
    method: "get",
    path: "/federation/people/lookup",
    tag: "Federation",
    summary: "A person on another server by handle (@name@host) or profile URL: their profile and the libraries and playlists they share",
    auth: true,
    query: lookupQuery,
    returns: "`{ fid, handle, name, summary, avatar, url, libraries: [library preview + follow], playlists }`; 400 for input naming no person, 502-504 when their server fails",
  },
  {
    method: "post",
    path: "/federation/people/follows",
    tag: "Federation",
    summary: "Follow a person on another server: a follow of each public library they share that you do not follow yet",
    auth: true,
    body: followBody,
    returns: "`{ profile, follows }`: the profile as looked up, and the follows made (pending until their server accepts)",
  },
];

/** Profiles: our people's, and people on other servers (looked up, and followed through their libraries). */
export function peopleRoutes(deps: Pick<ServerDeps, "people">): Router {
  const router = Router();
  const { people } = deps;

  router.get(
    "/people/:username",
    requireUser,
    handle(async (req) => people.local(parse(username, req.params.username))),
  );
  router.get(
    "/federation/people/lookup",
    requireUser,
    handle(async (req, res) => people.remote(currentAuth(res).user, parse(lookupQuery, req.query).q)),
  );
  router.post(
    "/federation/people/follows",
    requireUser,
    handle(async (req, res) => people.followLibraries(currentAuth(res).user, parse(followBody, req.body).target)),
  );
  return router;
}
