/**
 * A cover's sizes and formats, made on first request from its stored source and kept (issue 19: eight
 * encodes of every cover at import time were a tenth of a fresh import, for sizes most covers are never
 * asked for). Several requests for the same missing file share one render in a process; across
 * processes each writes a temp file and renames it over, so any reader sees a whole file.
 */
import { readFile, stat } from "node:fs/promises";
import sharp from "sharp";
import { getLogger } from "../../config/logging.ts";
import { NotFound } from "../errors.ts";
import { COVER_ORIGINAL_MAX, coverFilePath, coverSourcePath, hasCode, writeAtomically, type CoverFormat, type CoverSize } from "./artwork.ts";

const log = getLogger(["polyphony", "media"]);
const QUALITY = 80;
const rendering = new Map<string, Promise<void>>();

/** The path of the cover's file at this size and format, made now if it is missing. NotFound without a source. */
export async function ensureCoverFile(coversDir: string, hash: string, size: CoverSize, format: CoverFormat): Promise<string> {
  const file = coverFilePath(coversDir, hash, size, format);
  if (await exists(file)) return file;
  let render = rendering.get(file);
  if (!render) {
    render = renderFile(coverSourcePath(coversDir, hash), file, size, format).finally(() => rendering.delete(file));
    rendering.set(file, render);
  }
  await render;
  return file;
}

async function renderFile(source: string, file: string, size: CoverSize, format: CoverFormat): Promise<void> {
  let input: Buffer;
  try {
    input = await readFile(source);
  } catch (error) {
    // A cover row whose files are gone (removed by hand) is no cover.
    if (hasCode(error, "ENOENT", "ENOTDIR")) throw new NotFound("cover");
    throw error;
  }
  const box = size === "original" ? COVER_ORIGINAL_MAX : size;
  // Validated at import (artwork.ts); auto-oriented, shrunk on load for JPEG, metadata stripped.
  const pipeline = sharp(input, { failOn: "none", autoOrient: true }).resize(box, box, { fit: "inside", withoutEnlargement: true });
  const encoded =
    format === "webp"
      ? pipeline.webp({ quality: QUALITY, effort: 2 }) // effort 4 (default) doubles the time for ~5% smaller files
      : pipeline.flatten({ background: "#ffffff" }).jpeg({ quality: QUALITY }); // JPEG has no alpha: onto white
  const bytes = await encoded.toBuffer().catch((error: unknown) => {
    // Whole by its structure at import, yet not decodable (crafted, or stored by an older check): no cover.
    log.warning("The cover {source} cannot be decoded: {error}", { source, error });
    throw new NotFound("cover");
  });
  await writeAtomically(file, bytes);
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch (error) {
    if (hasCode(error, "ENOENT", "ENOTDIR")) return false;
    throw error;
  }
}
