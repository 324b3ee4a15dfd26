import { Router } from "express";
import { z } from "zod";
import type { BlockedActor } from "../../core/moderation/user-blocks.service.ts";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import type { Operation } from "../http/openapi.ts";
import type { ServerDeps } from "../deps.ts";

const blockBody = z.strictObject({ actor: z.url({ protocol: /^https?$/ }).max(2048) });

export const blocksOperations: Operation[] = [
  { method: "get", path: "/me/blocks", tag: "Moderation", summary: "The actors on other servers you blocked", auth: true },
  {
    method: "post",
    path: "/me/blocks",
    tag: "Moderation",
    summary: "Block an actor on another server (by its id): its follows of your libraries go, and what it sends you is ignored",
    auth: true,
    body: blockBody,
    status: 201,
  },
  { method: "delete", path: "/me/blocks/:actorId", tag: "Moderation", summary: "Lift a block (by the actor's id here)", auth: true, status: 204 },
];

const toBlockDto = (b: BlockedActor) => ({
  actor: { ...b.actor, handle: `@${b.actor.username}@${b.actor.domain}` },
  createdAt: new Date(b.createdAt).toISOString(),
});

/** A person's blocks of remote actors. */
export function blocksRoutes(deps: ServerDeps): Router {
  const router = Router();
  const { userBlocks } = deps.moderation;

  router.get(
    "/me/blocks",
    requireUser,
    handle(async (_req, res) => ({ items: (await userBlocks.list(currentAuth(res).user.id)).map(toBlockDto) })),
  );

  router.post(
    "/me/blocks",
    requireUser,
    handle(async (req, res) => toBlockDto(await userBlocks.block(currentAuth(res).user.id, parse(blockBody, req.body).actor)), 201),
  );

  router.delete(
    "/me/blocks/:actorId",
    requireUser,
    handle(async (req, res) => {
      await userBlocks.unblock(currentAuth(res).user.id, pathId(req.params.actorId, "block"));
    }, 204),
  );

  return router;
}
