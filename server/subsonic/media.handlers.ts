import { stat } from "node:fs/promises";
import path from "node:path";
import { NotFound } from "../../core/errors.ts";
import { COVER_THUMBNAIL_SIZES, coverFilePath, type CoverSize } from "../../core/media/artwork.ts";
import { albumCoverHash, bestUpload } from "../../core/subsonic/catalog.queries.ts";
import { sendMedia } from "../http/send-media.ts";
import { entityId } from "./browsing.handlers.ts";
import type { SubsonicContext, SubsonicHandler } from "./context.ts";
import { SubsonicError } from "./response.ts";

const notFound = () => new SubsonicError(70, "Requested data was not found");

/** The raw file, with Range (or X-Accel-Redirect in nginx mode). Never counts a play: only scrobble does. */
async function sendTrack(ctx: SubsonicContext, attachment: boolean): Promise<"sent"> {
  const upload = await bestUpload(ctx.pool, entityId(ctx), ctx.user.id);
  if (!upload) throw notFound();
  const file = ctx.uploads.filePath(upload);
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) throw notFound();
  const accelPath =
    ctx.config.media.serving === "nginx"
      ? upload.storage === "stored"
        ? `/_protected/media/${upload.path.split(path.sep).join("/")}`
        : `/_protected/files${file}`
      : undefined;
  if (attachment) ctx.res.attachment(upload.original_name);
  await sendMedia(ctx.req, ctx.res, {
    path: file,
    mimeType: upload.mime_type ?? "application/octet-stream",
    size: info.size,
    mtime: info.mtime,
    accelPath,
  });
  return "sent";
}

/** The smallest stored size that is at least `size` pixels; the 1200 px original above 600 or without size. */
export function coverSizeFor(size: number | undefined): CoverSize {
  if (size === undefined || size <= 0) return "original";
  return COVER_THUMBNAIL_SIZES.find((s) => s >= size) ?? "original";
}

async function getCoverArt(ctx: SubsonicContext): Promise<"sent"> {
  // Our coverArt ids are album ids; "al-<id>" (Navidrome's form) is accepted as well.
  const raw = ctx.params.required("id").replace(/^al-/, "");
  if (!/^[0-9a-f-]{36}$/i.test(raw)) throw notFound();
  const hash = await albumCoverHash(ctx.pool, raw.toLowerCase(), ctx.user.id);
  if (!hash) throw notFound();
  const file = coverFilePath(path.join(ctx.config.mediaDir, "covers"), hash, coverSizeFor(ctx.params.int("size")), "jpeg");
  await new Promise<void>((resolve, reject) => {
    // Content-addressed, so the bytes never change; but the URL carries credentials: no shared caches.
    ctx.res.setHeader("Cache-Control", "private, max-age=86400");
    ctx.res.sendFile(file, { cacheControl: false, lastModified: false, dotfiles: "deny" }, (error) => {
      if (!error) resolve();
      else if ((error as { code?: string }).code === "ENOENT" || (error as { status?: number }).status === 404) reject(new NotFound("cover"));
      else reject(error);
    });
  });
  return "sent";
}

export const mediaHandlers: Record<string, SubsonicHandler> = {
  stream: (ctx) => sendTrack(ctx, false),
  download: (ctx) => sendTrack(ctx, true),
  getCoverArt,
};
