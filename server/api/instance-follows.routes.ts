import { Router } from "express";
import { z } from "zod";
import type { InstanceFollow } from "../../core/fediverse/instance-follows.service.ts";
import { requireAdmin, requireUser } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import type { Operation } from "../http/openapi.ts";
import type { ServerDeps } from "../deps.ts";

const domain = z.string().trim().min(1).max(300);
const followBody = z.strictObject({ domain });

export const instanceFollowsOperations: Operation[] = [
  {
    method: "get",
    path: "/admin/instance-follows",
    tag: "Administration",
    summary: "Libraries of other servers the instance follows for everyone here, by server, with each follow's state",
    auth: true,
  },
  {
    method: "post",
    path: "/admin/instance-follows",
    tag: "Administration",
    summary: "Follow every public library another server lists (its NodeInfo's index of libraries), as the instance",
    auth: true,
    body: followBody,
    status: 201,
    returns: "`{ domain, followed: [...], skipped: [{ fid, reason }] }`; 400 for a bad name, this server, or a server without an index; 502-504 when it fails",
  },
  { method: "delete", path: "/admin/instance-follows/:id", tag: "Administration", summary: "Stop one instance follow (sends Undo)", auth: true, status: 204 },
  {
    method: "delete",
    path: "/admin/instance-follows/domains/:domain",
    tag: "Administration",
    summary: "Stop every instance follow of a server's libraries",
    auth: true,
  },
];

const iso = (date: Date | string | null) => (date ? new Date(date).toISOString() : null);

function toDto(follow: InstanceFollow) {
  return { ...follow, createdAt: iso(follow.createdAt), library: { ...follow.library, lastScanAt: iso(follow.library.lastScanAt) } };
}

/** Instance follows (issue 17 point 6): administrators choose the servers whose public libraries everyone here sees. */
export function instanceFollowsRoutes(deps: Pick<ServerDeps, "instanceFollows">): Router {
  const router = Router();
  const { instanceFollows } = deps;
  router.use("/instance-follows", requireUser, requireAdmin);

  router.get("/instance-follows", handle(async () => ({ items: (await instanceFollows.list()).map(toDto) })));
  router.post(
    "/instance-follows",
    handle(async (req) => {
      const outcome = await instanceFollows.follow(parse(followBody, req.body).domain);
      return { ...outcome, followed: outcome.followed.map(toDto) };
    }, 201),
  );
  router.delete(
    "/instance-follows/domains/:domain",
    handle(async (req) => ({ stopped: await instanceFollows.unfollowDomain(parse(domain, req.params.domain)) })),
  );
  router.delete(
    "/instance-follows/:id",
    handle(async (req) => {
      await instanceFollows.unfollow(pathId(req.params.id, "instance follow"));
      return undefined;
    }),
  );
  return router;
}
