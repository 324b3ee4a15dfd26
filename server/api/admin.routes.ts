import { Router } from "express";
import { z } from "zod";
import { REGISTRATION_MODES } from "../../core/system/instance-settings.ts";
import { currentAuth, requireAdmin } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import type { ServerDeps } from "../deps.ts";
import type { Operation } from "../http/openapi.ts";
import { toUserDto } from "./dto.ts";

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
const userPatch = z.strictObject({ disabled: z.boolean().optional(), role: z.enum(["admin", "user"]).optional() });
const settingsPatch = z.strictObject({ registration: z.enum(REGISTRATION_MODES).optional() });

export const adminOperations: Operation[] = [
  { method: "get", path: "/admin/users", tag: "Administration", summary: "List users", auth: true, query: listQuery },
  { method: "patch", path: "/admin/users/:id", tag: "Administration", summary: "Disable, enable or change a user's role", auth: true, body: userPatch },
  { method: "post", path: "/admin/invites", tag: "Administration", summary: "Create a single-use sign-up code", auth: true, status: 201 },
  { method: "get", path: "/admin/settings", tag: "Administration", summary: "Instance settings (the registration mode)", auth: true },
  { method: "patch", path: "/admin/settings", tag: "Administration", summary: "Change instance settings; every web process follows at once", auth: true, body: settingsPatch },
  {
    method: "get",
    path: "/admin/jobs",
    tag: "Administration",
    summary: "Job queue: queued, scheduled, running and failed jobs per task, the last errors and the worker heartbeat",
    auth: true,
  },
];

export function adminRoutes(deps: ServerDeps): Router {
  const router = Router();
  router.use(requireAdmin);

  router.get(
    "/users",
    handle(async (req) => {
      const page = parse(listQuery, req.query);
      const { items, total } = await deps.accounts.list(page);
      return { items: items.map(toUserDto), total, ...page };
    }),
  );

  router.patch(
    "/users/:id",
    handle(async (req, res) => {
      const id = pathId(req.params.id, "user");
      const user = await deps.accounts.update(currentAuth(res).user.id, id, parse(userPatch, req.body));
      return toUserDto(user);
    }),
  );

  router.post(
    "/invites",
    handle(async (_req, res) => {
      const { code, expiresAt } = await deps.accounts.createInvite(currentAuth(res).user.id);
      return { code, expiresAt: expiresAt.toISOString() };
    }, 201),
  );

  router.get(
    "/settings",
    handle(() => deps.settings.read()),
  );

  router.patch(
    "/settings",
    handle(async (req) => deps.settings.update(parse(settingsPatch, req.body))),
  );

  router.get(
    "/jobs",
    handle(() => deps.system.jobs()),
  );

  return router;
}
