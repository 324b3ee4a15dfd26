import path from "node:path";
import type { NextFunction, Response } from "express";
import { NotFound } from "../../core/errors.ts";
import { coverFilePath, type CoverSize } from "../../core/media/artwork.ts";

/** The stored file of a cover URL's `<size>.<ext>` (64, 256, 600 or original; webp or jpg), or NotFound. */
export function coverFile(mediaDir: string, hash: string, file: string): string {
  const match = /^(64|256|600|original)\.(webp|jpg)$/.exec(file);
  if (!match) throw new NotFound("cover");
  const size = (match[1] === "original" ? "original" : Number(match[1])) as CoverSize;
  return coverFilePath(path.join(mediaDir, "covers"), hash, size, match[2] === "jpg" ? "jpeg" : "webp");
}

/**
 * Sends a cover the caller has checked access to. Content-addressed: a URL's bytes never change, so the
 * client may keep them for good; yet only for whoever may see the album, so not shared caches.
 */
export function sendCover(res: Response, next: NextFunction, file: string): void {
  res.setHeader("Cache-Control", "private, max-age=31536000, immutable");
  res.sendFile(file, { cacheControl: false, lastModified: false, dotfiles: "deny" }, (error) => {
    if (!error) return;
    if ((error as { status?: number }).status === 404 || (error as { code?: string }).code === "ENOENT") {
      next(new NotFound("cover"));
    } else next(error);
  });
}
