import { Router, type Request } from "express";
import type { AppConfig } from "../../config/env.ts";
import { NotFound } from "../../core/errors.ts";
import { findServableUpload, mayReadCover } from "../../core/fediverse/authorized-fetch.ts";
import { COVER_PATH, MEDIA_PATH } from "../../core/fediverse/object-urls.ts";
import type { Database } from "../../core/db/database.ts";
import type { UploadsService } from "../../core/library/uploads.service.ts";
import { mimeType } from "../../federation/mappers/funkwhale-library.ts";
import { pathId } from "./ids.ts";
import { coverFile, sendCover } from "./send-cover.ts";
import { accelPathOf, sendMedia } from "./send-media.ts";

/**
 * The bytes other servers fetch: an upload's file (an Audio's `url`) and album covers, for who may read
 * a library holding them (authorized fetch, by signer; public libraries: anyone). Funkwhale fetches the
 * whole file in one signed GET without Range: a plain 200; Range is answered too. Through sendMedia, so
 * in nginx mode X-Accel-Redirect hands the file to nginx. Anyone else: 404, as for a missing upload.
 */
export function federationMediaRoutes(deps: {
  db: Database;
  config: Pick<AppConfig, "media" | "mediaDir">;
  uploads: UploadsService;
  signer: (req: Request) => Promise<string | null>;
}): Router {
  const router = Router();

  router.get(MEDIA_PATH, async (req, res) => {
    const id = pathId(req.params.id, "upload");
    const upload = await findServableUpload(deps.db.pool, id, await deps.signer(req));
    if (!upload) throw new NotFound("upload");
    const opened = await deps.uploads.openFile(upload);
    try {
      await sendMedia(req, res, {
        handle: opened.handle,
        path: opened.realPath,
        mimeType: mimeType(upload.mime_type),
        size: opened.size,
        mtime: opened.mtime,
        accelPath: deps.config.media.serving === "nginx" ? accelPathOf(upload.storage, opened) : undefined,
      });
    } finally {
      await opened.handle.close();
    }
  });

  router.get(COVER_PATH, async (req, res, next) => {
    const hash = String(req.params.hash);
    const file = coverFile(deps.config.mediaDir, hash, String(req.params.file));
    if (!(await mayReadCover(deps.db.pool, hash, await deps.signer(req)))) throw new NotFound("cover");
    await sendCover(res, next, file);
  });
  return router;
}
