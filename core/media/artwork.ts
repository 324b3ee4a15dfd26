/**
 * Cover art: validate an image, store it content-addressed, and find the cover file that sits beside an
 * album's audio files.
 *
 * Layout: `coversDir/<aa>/<bb>/<sha256>/source` (the bytes as they came), and beside it each size and
 * format once asked for, `{64,256,600,original}.{webp,jpg}` (cover-derivatives.ts). Every file appears
 * whole or not at all (written to a temp file, then renamed), so readers never see half a cover.
 * Covers stored before the source existed have all eight files and no source.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Dirent } from "node:fs";
import { access, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type sharpModule from "sharp";
import { Invalid, NotFound } from "../errors.ts";
import { jpegDamage, pngDamage } from "./image-completeness.ts";
import { isRegularFileInside } from "./safe-open.ts";

/** Larger files are refused before decoding; real covers are a few MB at most. */
export const MAX_COVER_BYTES = 30 * 1024 * 1024;
/** Larger images are refused from their header, before any pixel is decoded (decompression bombs). */
export const MAX_COVER_PIXELS = 50_000_000;
/** Thumbnail bounding boxes (fit inside, never enlarged). */
export const COVER_THUMBNAIL_SIZES = [64, 256, 600] as const;
/** The stored "original" is capped to this on its longest side. */
export const COVER_ORIGINAL_MAX = 1200;

export type CoverSize = (typeof COVER_THUMBNAIL_SIZES)[number] | "original";
export type CoverFormat = "webp" | "jpeg";

export interface StoredCover {
  /** SHA-256 (hex) of the input bytes: the cover's id. */
  hash: string;
  /** Dimensions of the input, upright (after EXIF orientation). */
  width: number;
  height: number;
  /** Bounding box of each stored size: 64, 256, 600, then the longest side of the stored original. */
  sizes: number[];
}

export class InvalidImage extends Invalid {
  constructor(message: string, details?: unknown) {
    super(message, details, "invalid_image");
  }
}

const SIZES: readonly CoverSize[] = [...COVER_THUMBNAIL_SIZES, "original"];
const FORMATS: readonly CoverFormat[] = ["webp", "jpeg"];
const EXTENSIONS: Record<CoverFormat, string> = { webp: "webp", jpeg: "jpg" };
/** The bytes a cover came as; never served as such (they are not re-encoded, metadata and all). */
const SOURCE = "source";
const HASH = /^[0-9a-f]{64}$/;
const MEGABYTE = 1024 * 1024;

/**
 * Validates `input` (its header, then that it is whole: a damaged image is refused here, at import), then
 * stores the bytes as the cover's source. The sizes and formats clients ask for are made from it on first
 * request and kept (cover-derivatives.ts): an import encodes nothing.
 * Idempotent: when the source is stored, nothing is decoded or written. Throws InvalidImage.
 */
export async function processCover(input: Uint8Array, coversDir: string): Promise<StoredCover> {
  const { width, height, format } = await inspect(input);
  const hash = createHash("sha256").update(input).digest("hex");
  const stored: StoredCover = {
    hash,
    width,
    height,
    sizes: [...COVER_THUMBNAIL_SIZES, Math.min(COVER_ORIGINAL_MAX, Math.max(width, height))],
  };
  const dir = coverDirectory(coversDir, hash);
  if (await hasSource(dir)) return stored;
  // Every track of an album carries the same picture and they import side by side: store it once.
  const key = `${coversDir}\0${hash}`;
  let storing = inFlight.get(key);
  if (!storing) {
    storing = storeSource(input, format, dir).finally(() => inFlight.delete(key));
    inFlight.set(key, storing);
  }
  await storing;
  return stored;
}

const inFlight = new Map<string, Promise<void>>();

async function storeSource(input: Uint8Array, format: ImageFormat, dir: string): Promise<void> {
  await checkWhole(input, format);
  await mkdir(dir, { recursive: true });
  await writeAtomically(path.join(dir, SOURCE), input);
}

/** Writes `file` whole or not at all: a temp file beside it, renamed over (atomic on one filesystem). */
export async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path.dirname(file)}/.tmp-${randomBytes(6).toString("hex")}-${path.basename(file)}`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
}

/** The stored source of a cover (its bytes as they came), from which every size is made. */
export function coverSourcePath(coversDir: string, hash: string): string {
  if (!HASH.test(hash)) throw new NotFound("cover");
  return path.join(coverDirectory(coversDir, hash), SOURCE);
}

/** The path of one stored file. Throws NotFound for anything that is not a cover id, size or format. */
export function coverFilePath(coversDir: string, hash: string, size: CoverSize, format: CoverFormat): string {
  // Checked at run time too: these often come straight from a URL.
  if (!HASH.test(hash) || !SIZES.includes(size) || !FORMATS.includes(format)) throw new NotFound("cover");
  return path.join(coverDirectory(coversDir, hash), fileName(size, format));
}

function coverDirectory(coversDir: string, hash: string): string {
  return path.join(coversDir, hash.slice(0, 2), hash.slice(2, 4), hash);
}

function fileName(size: CoverSize, format: CoverFormat): string {
  return `${size}.${EXTENSIONS[format]}`;
}

/** Refuses what we will not decode, reading only the header. Returns the upright dimensions. */
// Loaded on the first cover checked: the CLI's scan reaches this module for folder covers but a rescan
// rarely checks one, and loading libvips costs each command ~50 ms of start.
let sharpLoaded: Promise<typeof sharpModule> | undefined;
function loadSharp(): Promise<typeof sharpModule> {
  sharpLoaded ??= import("sharp").then((module) => module.default);
  return sharpLoaded;
}

async function inspect(input: Uint8Array): Promise<{ width: number; height: number; format: ImageFormat }> {
  if (input.byteLength > MAX_COVER_BYTES) {
    const mb = (input.byteLength / MEGABYTE).toFixed(1);
    throw new InvalidImage(`The cover image file is too big (${mb} MB; the limit is ${MAX_COVER_BYTES / MEGABYTE} MB)`, {
      bytes: input.byteLength,
      limitBytes: MAX_COVER_BYTES,
    });
  }
  // Sniff first so only the decoders we expect (not SVG, PDF, TIFF, ...) ever see untrusted bytes.
  const format = sniffFormat(input);
  if (!format) throw notReadable();
  // No pixel limit here: we want the dimensions for the message; reading a header decodes no pixels.
  const sharp = await loadSharp();
  const meta = await sharp(input, { limitInputPixels: false })
    .metadata()
    .catch(() => null);
  if (!meta || meta.format !== format) throw notReadable();
  if (meta.width * meta.height > MAX_COVER_PIXELS) {
    throw new InvalidImage(
      `The cover image is too large (${meta.width}x${meta.height} pixels; the limit is ${MAX_COVER_PIXELS / 1_000_000} megapixels)`,
      { width: meta.width, height: meta.height, limitPixels: MAX_COVER_PIXELS },
    );
  }
  return { ...meta.autoOrient, format };
}

function notReadable(): InvalidImage {
  return new InvalidImage("The cover is not a readable image (use a JPEG, PNG, WebP, GIF or AVIF file)");
}

type ImageFormat = "jpeg" | "png" | "webp" | "gif" | "heif";

/** The format named by the file's magic bytes, spelled as sharp's metadata spells it. */
function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  const ascii = (start: number, end: number) => String.fromCharCode(...bytes.subarray(start, end));
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (ascii(0, 8) === "\x89PNG\r\n\x1a\n") return "png";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "webp";
  if (ascii(0, 4) === "GIF8") return "gif";
  if (ascii(4, 8) === "ftyp" && ["avif", "avis"].includes(ascii(8, 12))) return "heif";
  return null;
}

/**
 * Refuses a damaged or truncated image now, at import: JPEG and PNG from their structure
 * (image-completeness.ts), the other formats by decoding the whole image into a thumbnail.
 */
async function checkWhole(input: Uint8Array, format: ImageFormat): Promise<void> {
  const damage = format === "jpeg" ? jpegDamage(input) : format === "png" ? pngDamage(input) : await decodeDamage(input);
  if (damage !== null) throw new InvalidImage("The cover image is damaged or truncated and could not be read", { reason: damage });
}

async function decodeDamage(input: Uint8Array): Promise<string | null> {
  const sharp = await loadSharp();
  try {
    await sharp(input, { limitInputPixels: MAX_COVER_PIXELS, failOn: "error" }).resize(64, 64, { fit: "inside" }).raw().toBuffer();
    return null;
  } catch (error) {
    // failOn "error": tolerate the warnings common in real-world files, refuse truncated or corrupt data.
    return error instanceof Error ? error.message : String(error);
  }
}

async function hasSource(dir: string): Promise<boolean> {
  try {
    await access(path.join(dir, SOURCE));
    return true;
  } catch (error) {
    if (hasCode(error, "ENOENT", "ENOTDIR")) return false;
    throw error;
  }
}

export function hasCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && codes.includes((error as NodeJS.ErrnoException).code ?? "");
}

// --- Folder covers -------------------------------------------------------------------------------

const FOLDER_COVER_NAMES = ["cover", "folder", "front"];
const FOLDER_COVER_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp"];

/**
 * The cover image beside `audioFilePath` (cover > folder > front; .jpg > .jpeg > .png > .webp), or null.
 * A link counts only when it leads to a regular file inside `root` (safe-open.ts), by default the folder itself.
 */
export function findFolderCover(audioFilePath: string, root = path.dirname(audioFilePath)): Promise<string | null> {
  return findInDirectory(path.dirname(audioFilePath), root);
}

/**
 * findFolderCover with a per-directory cache, for a batch of imports where many files share a folder:
 * each directory is read once. Make one per batch; it never forgets, so a long-lived one goes stale.
 */
export class FolderCoverFinder {
  readonly #byDirectory = new Map<string, Promise<string | null>>();

  find(audioFilePath: string, root = path.dirname(audioFilePath)): Promise<string | null> {
    const dir = path.dirname(audioFilePath);
    const key = `${root}\0${dir}`;
    let found = this.#byDirectory.get(key);
    if (!found) {
      found = findInDirectory(dir, root);
      this.#byDirectory.set(key, found);
    }
    return found;
  }
}

async function findInDirectory(dir: string, root: string): Promise<string | null> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    // A cover is optional: an unreadable folder just has none.
    if (hasCode(error, "ENOENT", "ENOTDIR", "EACCES", "EPERM")) return null;
    throw error;
  }
  const candidates = entries
    .map((entry) => ({ entry, rank: folderCoverRank(entry.name) }))
    .filter((candidate): candidate is { entry: Dirent; rank: number } => candidate.rank !== null)
    // Ties are case variants (Cover.jpg, cover.jpg): order by name so the answer never depends on readdir.
    .sort((a, b) => a.rank - b.rank || (a.entry.name < b.entry.name ? -1 : 1));
  for (const { entry } of candidates) {
    const file = path.join(dir, entry.name);
    if (entry.isFile() || (entry.isSymbolicLink() && (await isRegularFileInside(root, file)))) return file;
  }
  return null;
}

/** Lower is better; null when the name is not a folder cover. */
function folderCoverRank(name: string): number | null {
  const lower = name.toLowerCase();
  const extension = path.extname(lower);
  const nameIndex = FOLDER_COVER_NAMES.indexOf(lower.slice(0, lower.length - extension.length));
  const extensionIndex = FOLDER_COVER_EXTENSIONS.indexOf(extension);
  if (nameIndex < 0 || extensionIndex < 0) return null;
  return nameIndex * FOLDER_COVER_EXTENSIONS.length + extensionIndex;
}
