import { Router } from "express";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { exportListens } from "../../core/listens/listen-export.ts";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import { forEachFile } from "../http/multipart.ts";
import type { ServerDeps } from "../deps.ts";
import type { Operation } from "../http/openapi.ts";

export const listenTransferOperations: Operation[] = [
  {
    method: "get",
    path: "/me/listens/export",
    tag: "Listens",
    summary: "All your listens as a ListenBrainz export (JSON array, oldest first), streamed as a download",
    auth: true,
  },
  {
    method: "post",
    path: "/me/listens/imports",
    tag: "Listens",
    summary: "Import a ListenBrainz export (JSON array or JSON lines) or a Last.fm scrobble CSV (multipart, one file, at most LISTEN_IMPORT_MAX_MB, 200 by default)",
    auth: true,
  },
  { method: "get", path: "/me/listens/imports", tag: "Listens", summary: "Your listen imports, newest first, with their progress", auth: true },
  { method: "get", path: "/me/listens/imports/{id}", tag: "Listens", summary: "One listen import's progress (done/total, rate, errors by line)", auth: true },
];

/** Export of the signed-in user's listens, and imports of listen files with their progress. */
export function listenTransferRoutes(deps: ServerDeps): Router {
  const router = Router();
  const imports = deps.listenImports;
  router.get("/me/listens/export", requireUser, async (_req, res) => {
    const { user } = currentAuth(res);
    const stamp = new Date().toISOString().replace(/[-:]/g, "").slice(0, 15);
    res.attachment(`listenbrainz_${user.username}_${stamp}.json`).type("application/json");
    // Headers are gone once the first page is out: a failure later can only cut the download short.
    await pipeline(Readable.from(exportListens(deps.db.pool, user.id, user.username)), res).catch(() => res.destroy());
  });
  router.post("/me/listens/imports", requireUser, handle(async (req, res) => {
    const { user } = currentAuth(res);
    const { results } = await forEachFile(req, { files: 1, fileSize: imports.maxBytes + 1 }, (name, stream) =>
      imports.create(user.id, name, stream));
    return results[0];
  }, 201));
  router.get("/me/listens/imports", requireUser, handle(async (_req, res) => ({ imports: await imports.list(currentAuth(res).user.id) })));
  router.get("/me/listens/imports/:id", requireUser, handle(async (req, res) =>
    imports.status(currentAuth(res).user.id, pathId(req.params.id, "listen import"))));
  return router;
}
