import { Router } from "express";
import { z } from "zod";
import type { ModeratedDomain } from "../../core/moderation/domains.service.ts";
import type { Report } from "../../core/moderation/reports.service.ts";
import { currentAuth, requireAdmin } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import type { Operation } from "../http/openapi.ts";
import type { ServerDeps } from "../deps.ts";

const page = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
const domainPatch = z
  .strictObject({ blocked: z.boolean().optional(), silenced: z.boolean().optional(), allowed: z.boolean().optional() })
  .refine((flags) => Object.keys(flags).length > 0, "Give blocked, silenced or allowed");
const reportQuery = page.extend({ state: z.enum(["open", "resolved"]).default("open") });
const reportPatch = z.strictObject({ state: z.enum(["open", "resolved"]), resolution: z.string().trim().max(2000).optional() });

export const moderationOperations: Operation[] = [
  {
    method: "get",
    path: "/admin/domains",
    tag: "Moderation",
    summary: "The federation mode (open or allowlist) and the servers blocked, silenced or allowed",
    auth: true,
  },
  {
    method: "put",
    path: "/admin/domains/:name",
    tag: "Moderation",
    summary: "Block, silence or allow a server by its domain (host[:port]); blocking drops every follow between us and it",
    auth: true,
    body: domainPatch,
  },
  { method: "get", path: "/admin/reports", tag: "Moderation", summary: "Reports (Flag) other servers sent: the open queue, oldest first, or the resolved ones", auth: true, query: reportQuery },
  { method: "patch", path: "/admin/reports/:id", tag: "Moderation", summary: "Resolve a report (saying what was done), or open it again", auth: true, body: reportPatch },
  { method: "get", path: "/admin/moderation-log", tag: "Moderation", summary: "Every moderation decision, newest first", auth: true, query: page },
];

const iso = (date: Date | string | null) => (date ? new Date(date).toISOString() : null);

const toDomainDto = (d: ModeratedDomain) => ({ ...d, firstSeenAt: iso(d.firstSeenAt), lastSeenAt: iso(d.lastSeenAt) });
const toReportDto = (r: Report) => ({ ...r, resolvedAt: iso(r.resolvedAt), createdAt: iso(r.createdAt) });

/** Admins' moderation: servers, reports, the log. Everyone else gets 403 (401 signed out). */
export function moderationRoutes(deps: ServerDeps): Router {
  const router = Router();
  const { moderation } = deps;

  router.get(
    "/domains",
    requireAdmin,
    handle(async () => {
      const { mode, items } = await moderation.domains.list();
      return { mode, items: items.map(toDomainDto) };
    }),
  );

  router.put(
    "/domains/:name",
    requireAdmin,
    handle(async (req, res) => {
      const updated = await moderation.domains.update(currentAuth(res).user.id, String(req.params.name), parse(domainPatch, req.body));
      return toDomainDto(updated);
    }),
  );

  router.get(
    "/reports",
    requireAdmin,
    handle(async (req) => {
      const query = parse(reportQuery, req.query);
      const { items, total } = await moderation.reports.list(query.state, query);
      return { items: items.map(toReportDto), total, limit: query.limit, offset: query.offset };
    }),
  );

  router.patch(
    "/reports/:id",
    requireAdmin,
    handle(async (req, res) => {
      const id = pathId(req.params.id, "report");
      return toReportDto(await moderation.reports.setState(currentAuth(res).user.id, id, parse(reportPatch, req.body)));
    }),
  );

  router.get(
    "/moderation-log",
    requireAdmin,
    handle(async (req) => {
      const query = parse(page, req.query);
      const { items, total } = await moderation.decisions(query);
      return { items: items.map((e) => ({ ...e, createdAt: iso(e.createdAt) })), total, ...query };
    }),
  );

  return router;
}
