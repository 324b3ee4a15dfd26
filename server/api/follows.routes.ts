import { Router } from "express";
import { z } from "zod";
import type { Follower, Following, PlaylistFollowing } from "../../core/fediverse/follows.service.ts";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import type { Operation } from "../http/openapi.ts";
import type { ServerDeps } from "../deps.ts";

const target = z.string().trim().min(3).max(2048);
const lookupQuery = z.object({ q: target });
const followBody = z.strictObject({ target });

export const followsOperations: Operation[] = [
  {
    method: "get",
    path: "/federation/lookup",
    tag: "Federation",
    summary: "What a handle (@name@host) or URL (actor, Library or Playlist document, library page) names: a library or playlist on another server",
    auth: true,
    query: lookupQuery,
    returns: "`{ kind?: playlist, fid, name, summary, totalItems, privacy: public|restricted, actor, owner, follow }`; 400 for input naming no library, 502-504 when its server fails",
  },
  {
    method: "post",
    path: "/federation/follows",
    tag: "Federation",
    summary: "Follow a library or playlist on another server (pending until its server accepts); a playlist's answer has `playlist` instead of `library`",
    auth: true,
    body: followBody,
    status: 201,
  },
  { method: "get", path: "/federation/follows", tag: "Federation", summary: "Libraries and playlists on other servers you follow, with each follow's state (a playlist's has `playlist` instead of `library`)", auth: true },
  { method: "delete", path: "/federation/follows/:id", tag: "Federation", summary: "Stop following (sends Undo)", auth: true, status: 204 },
  { method: "get", path: "/libraries/:id/followers", tag: "Libraries", summary: "Who follows your library, pending requests first", auth: true },
  {
    method: "post",
    path: "/libraries/:id/followers/:followId/approve",
    tag: "Libraries",
    summary: "Accept a follower of your library",
    auth: true,
  },
  {
    method: "post",
    path: "/libraries/:id/followers/:followId/reject",
    tag: "Libraries",
    summary: "Refuse a follow request, or revoke an accepted follower",
    auth: true,
  },
];

const iso = (date: Date | string | null) => (date ? new Date(date).toISOString() : null);

function toFollowingDto(follow: Following | PlaylistFollowing) {
  if ("playlist" in follow) {
    // A followed playlist: it shows among the person's playlists (read-only) once accepted and read.
    const { playlist } = follow;
    return { id: follow.id, state: follow.state, createdAt: iso(follow.createdAt), updatedAt: iso(follow.updatedAt), playlist };
  }
  const { library } = follow;
  return {
    id: follow.id,
    state: follow.state,
    createdAt: iso(follow.createdAt),
    updatedAt: iso(follow.updatedAt),
    library: {
      id: library.id, fid: library.fid, name: library.name, description: library.description,
      lastScanAt: iso(library.lastScanAt), actor: library.actor,
    },
  };
}

function toFollowerDto(follower: Follower) {
  return { id: follower.id, state: follower.state, createdAt: iso(follower.createdAt), updatedAt: iso(follower.updatedAt), actor: follower.actor };
}

/** Following libraries on other servers, and the followers of one's own libraries. */
export function followsRoutes(deps: Pick<ServerDeps, "follows">): Router {
  const router = Router();
  const { follows } = deps;

  router.get(
    "/federation/lookup",
    requireUser,
    handle(async (req, res) => follows.preview(currentAuth(res).user, parse(lookupQuery, req.query).q)),
  );
  router.post(
    "/federation/follows",
    requireUser,
    handle(async (req, res) => toFollowingDto(await follows.follow(currentAuth(res).user, parse(followBody, req.body).target)), 201),
  );
  router.get(
    "/federation/follows",
    requireUser,
    handle(async (_req, res) => ({ items: (await follows.listFollowing(currentAuth(res).user)).map(toFollowingDto) })),
  );
  router.delete(
    "/federation/follows/:id",
    requireUser,
    handle(async (req, res) => {
      await follows.unfollow(currentAuth(res).user, pathId(req.params.id, "follow"));
      return undefined;
    }),
  );

  router.get(
    "/libraries/:id/followers",
    requireUser,
    handle(async (req, res) => ({
      items: (await follows.listFollowers(currentAuth(res).user, pathId(req.params.id, "library"))).map(toFollowerDto),
    })),
  );
  for (const action of ["approve", "reject"] as const) {
    router.post(
      `/libraries/:id/followers/:followId/${action}`,
      requireUser,
      handle(async (req, res) => {
        const libraryId = pathId(req.params.id, "library");
        const followId = pathId(req.params.followId, "follower");
        return toFollowerDto(await follows[action](currentAuth(res).user, libraryId, followId));
      }),
    );
  }
  return router;
}
