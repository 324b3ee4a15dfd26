import { Router } from "express";
import { z } from "zod";
import { UPLOAD_STATUSES } from "../../core/library/upload.entity.ts";
import { UPLOAD_ORDERS } from "../../core/library/uploads.service.ts";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import type { ServerDeps } from "../deps.ts";
import type { Operation } from "../http/openapi.ts";
import { toUploadDto } from "./library-dto.ts";

const listQuery = z.object({
  library: z.uuid().optional(),
  status: z.enum(UPLOAD_STATUSES).optional(),
  batch: z.uuid().optional(),
  order: z.enum(UPLOAD_ORDERS).default("recent"),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const uploadsOperations: Operation[] = [
  { method: "get", path: "/uploads", tag: "Libraries", summary: "Uploads with their import status", auth: true, query: listQuery },
  { method: "get", path: "/uploads/:id", tag: "Libraries", summary: "One upload", auth: true },
  { method: "delete", path: "/uploads/:id", tag: "Libraries", summary: "Delete your upload", auth: true, status: 204 },
  { method: "post", path: "/uploads/:id/retry", tag: "Libraries", summary: "Import your failed upload again", auth: true, status: 202 },
  { method: "get", path: "/import-batches/:id", tag: "Libraries", summary: "Progress of an import batch", auth: true },
];

export function uploadsRoutes(deps: ServerDeps): Router {
  const router = Router();
  const { uploads } = deps;

  router.get(
    "/uploads",
    requireUser,
    handle(async (req, res) => {
      const query = parse(listQuery, req.query);
      const { items, total } = await uploads.list(currentAuth(res).user, query);
      return { items: items.map(toUploadDto), total, limit: query.limit, offset: query.offset };
    }),
  );

  router.get(
    "/uploads/:id",
    requireUser,
    handle(async (req, res) => toUploadDto(await uploads.get(currentAuth(res).user, pathId(req.params.id, "upload")))),
  );

  router.delete(
    "/uploads/:id",
    requireUser,
    handle(async (req, res) => {
      await uploads.deleteOne(currentAuth(res).user, pathId(req.params.id, "upload"));
      return undefined;
    }),
  );

  router.post(
    "/uploads/:id/retry",
    requireUser,
    handle(async (req, res) => toUploadDto(await uploads.retry(currentAuth(res).user, pathId(req.params.id, "upload"))), 202),
  );

  router.get(
    "/import-batches/:id",
    requireUser,
    handle(async (req, res) => {
      const id = pathId(req.params.id, "import batch");
      return { id, counts: await uploads.batchProgress(currentAuth(res).user, id) };
    }),
  );

  return router;
}
