import { Router, type Request, type Response } from "express";
import { z } from "zod";
import { NotFound } from "../../core/errors.ts";
import type { UploadRow } from "../../core/library/uploads.service.ts";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import { sendCover, coverFile } from "../http/send-cover.ts";
import { sendPlayable } from "../http/send-media.ts";
import type { ServerDeps } from "../deps.ts";
import type { Operation } from "../http/openapi.ts";

const coverQuery = z.object({
  size: z.enum(["64", "256", "600", "original"]).default("600"),
  format: z.enum(["webp", "jpeg"]).default("jpeg"),
});

export const mediaOperations: Operation[] = [
  // A remote copy's server failing answers 502 (it refused), 503 (unreachable) or 504 (too slow).
  { method: "get", path: "/uploads/:id/stream", tag: "Streaming", summary: "An upload's audio (Range supported)", returns: "The audio bytes" },
  { method: "get", path: "/tracks/:id/stream", tag: "Streaming", summary: "A track's best copy (Range supported)", returns: "The audio bytes" },
  { method: "get", path: "/albums/:id/cover", tag: "Catalog", summary: "Redirect to the album cover", query: coverQuery, status: 302 },
  { method: "delete", path: "/albums/:id", tag: "Libraries", summary: "Delete your uploads of an album", auth: true, status: 204 },
];

/** Streams of uploads and tracks (with Range, or X-Accel-Redirect for nginx), covers, and deletion of albums. */
export function mediaRoutes(deps: ServerDeps): Router {
  const router = Router();
  const { uploads, catalog, config, playback, covers } = deps;

  // A remote upload not copied yet is fetched now, signed as the listener (core/library/playable-audio.ts).
  const stream = async (req: Request, res: Response, upload: UploadRow) => {
    const audio = await playback.open(upload, res.locals.auth?.user?.id ?? null);
    try {
      await sendPlayable(req, res, audio, upload, config.media.serving);
    } finally {
      await audio.close();
    }
  };

  router.get("/uploads/:id/stream", async (req, res) => {
    const upload = await uploads.get(res.locals.auth?.user, pathId(req.params.id, "upload"));
    if (upload.status !== "finished") throw new NotFound("upload");
    await stream(req, res, upload);
  });

  router.get("/tracks/:id/stream", async (req, res) => {
    const upload = await catalog.bestCopy(res.locals.auth?.user?.id ?? null, pathId(req.params.id, "track"));
    if (!upload) throw new NotFound("track");
    await stream(req, res, upload);
  });

  router.get("/albums/:id/cover", async (req, res) => {
    const id = pathId(req.params.id, "album");
    const { size, format } = parse(coverQuery, req.query);
    const hash = await covers.hashFor(res.locals.auth?.user?.id ?? null, id);
    if (hash === undefined) throw new NotFound("album");
    if (hash === null) throw new NotFound("cover");
    res.redirect(302, `/api/v1/covers/${hash}/${size}.${format === "jpeg" ? "jpg" : "webp"}`);
  });

  // The hash is no secret (it is in every album's redirect): the cover goes only to who may see an album
  // wearing it, or a private album's art would be one guessed or shared URL away.
  router.get("/covers/:hash/:file", async (req, res, next) => {
    const file = coverFile(config.mediaDir, String(req.params.hash), String(req.params.file));
    if (!(await catalog.canSeeCover(res.locals.auth?.user?.id ?? null, String(req.params.hash)))) throw new NotFound("cover");
    await sendCover(res, next, file);
  });

  router.delete(
    "/albums/:id",
    requireUser,
    handle(async (req, res) => {
      await uploads.deleteOwnedOfAlbum(currentAuth(res).user, pathId(req.params.id, "album"));
      return undefined;
    }),
  );

  return router;
}
