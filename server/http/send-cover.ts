import path from "node:path";
import type { NextFunction, Response } from "express";
import { NotFound } from "../../core/errors.ts";
import { coverFilePath, type CoverFormat, type CoverSize } from "../../core/media/artwork.ts";
import { ensureCoverFile } from "../../core/media/cover-derivatives.ts";

export interface CoverFile {
  coversDir: string;
  hash: string;
  size: CoverSize;
  format: CoverFormat;
}

/** The cover file a URL's `<size>.<ext>` names (64, 256, 600 or original; webp or jpg), or NotFound. */
export function coverFile(mediaDir: string, hash: string, file: string): CoverFile {
  const match = /^(64|256|600|original)\.(webp|jpg)$/.exec(file);
  if (!match) throw new NotFound("cover");
  const cover: CoverFile = {
    coversDir: path.join(mediaDir, "covers"),
    hash,
    size: (match[1] === "original" ? "original" : Number(match[1])) as CoverSize,
    format: match[2] === "jpg" ? "jpeg" : "webp",
  };
  coverFilePath(cover.coversDir, hash, cover.size, cover.format); // throws NotFound for a bad hash
  return cover;
}

/**
 * Sends a cover the caller has checked access to, made first if this size was never asked for.
 * Content-addressed: a URL's bytes never change, so the client may keep them for good; yet only for
 * whoever may see the album, so not shared caches.
 */
export async function sendCover(res: Response, next: NextFunction, cover: CoverFile): Promise<void> {
  const file = await ensureCoverFile(cover.coversDir, cover.hash, cover.size, cover.format);
  res.setHeader("Cache-Control", "private, max-age=31536000, immutable");
  res.sendFile(file, { cacheControl: false, lastModified: false, dotfiles: "deny" }, (error) => {
    if (!error) return;
    if ((error as { status?: number }).status === 404 || (error as { code?: string }).code === "ENOENT") {
      next(new NotFound("cover"));
    } else next(error);
  });
}
