import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Request, Response } from "express";
import { getLogger } from "../../config/logging.ts";
import type { PlayableAudio } from "../../core/library/playable-audio.ts";
import type { UploadStorage } from "../../core/library/upload.entity.ts";
import type { OpenFile } from "../../core/media/safe-open.ts";
import { clientWentAway, goneReason } from "./client-gone.ts";

const log = getLogger(["polyphony", "http", "media"]);

/** One audio file to send, opened by the caller through the folder boundary (core/media/safe-open.ts). */
export interface MediaFile {
  /** The bytes are read through this, never by name; the caller closes it. */
  handle: FileHandle;
  /** Names the file in the ETag and the log. */
  path: string;
  mimeType: string;
  size: number;
  mtime: Date;
  /**
   * nginx mode: the unencoded URI of the file under nginx's internal location
   * (e.g. `/_protected/media/Sigur Rós/#1.flac`). When set, nginx sends the body and answers ranges.
   */
  accelPath?: string;
}

/**
 * `private`: the audio sits behind authorization, so shared caches (proxies, CDNs) must not keep it; the
 * listener's own browser may, and revalidates with the ETag after an hour.
 */
export const MEDIA_CACHE_CONTROL = "private, max-age=3600";

export type ByteRange = { start: number; end: number };

/** A response decided from the request headers alone, before the file is touched. */
interface Plan {
  status: 200 | 206 | 304 | 416;
  headers: Record<string, string>;
  /** The bytes to send (inclusive); absent when there is no body. */
  range?: ByteRange;
}

/**
 * Answers a GET or HEAD for a media file, after the caller has checked access.
 * Direct mode streams the file with validators, conditional requests and single byte ranges.
 * nginx mode (`file.accelPath`) sends no body: X-Accel-Redirect hands the file to nginx, which answers
 * ranges and conditionals itself with its own validators.
 */
export async function sendMedia(req: Request, res: Response, file: MediaFile): Promise<void> {
  const plan = file.accelPath === undefined ? planDirect(req, file) : planAccel(file, file.accelPath);
  res.status(plan.status);
  for (const [name, value] of Object.entries(plan.headers)) res.setHeader(name, value);
  if (file.accelPath !== undefined || !plan.range || req.method === "HEAD") {
    res.end();
    return;
  }
  await pipeMedia(req, res, file.handle, plan.range, file.path);
}

/**
 * Answers with an upload's playable audio (core/library/playable-audio.ts): a file as sendMedia does (nginx
 * sends it in nginx mode), or a remote upload's bytes as its first download brings them (always from here).
 * The caller closes the audio.
 */
export async function sendPlayable(
  req: Request,
  res: Response,
  audio: PlayableAudio,
  upload: { storage: UploadStorage; mime_type: string | null },
  serving: "express" | "nginx",
): Promise<void> {
  const mimeType = upload.mime_type ?? "application/octet-stream";
  if (audio.kind === "arriving") return sendArriving(req, res, { ...audio, mimeType });
  const opened = audio.file;
  await sendMedia(req, res, {
    handle: opened.handle,
    path: opened.realPath,
    mimeType,
    size: opened.size,
    mtime: opened.mtime,
    accelPath: serving === "nginx" ? accelPathOf(upload.storage, opened) : undefined,
  });
}

/** Audio that is still arriving (a remote upload's first download): its size is known, its bytes come as written. */
export interface ArrivingMedia {
  size: number;
  mimeType: string;
  /** Names the source in the log. */
  label: string;
  read(range: ByteRange): Readable;
}

/**
 * Answers a GET or HEAD with arriving audio: single byte ranges as for a file (a range beyond what has
 * arrived waits for it), but no validators, since the copy is not whole yet: conditionals are not
 * answered and an If-Range never matches (the whole file is sent). When the download fails before the
 * bytes are sent, the connection is cut, so the listener never takes a short file for a whole one.
 */
export async function sendArriving(req: Request, res: Response, media: ArrivingMedia): Promise<void> {
  const headers: Record<string, string> = {
    "Accept-Ranges": "bytes",
    "Content-Type": media.mimeType,
    "Cache-Control": MEDIA_CACHE_CONTROL,
    "X-Content-Type-Options": "nosniff",
  };
  const header = req.get("range");
  const range = req.method === "GET" && header !== undefined && req.get("if-range") === undefined ? parseRange(header, media.size) : undefined;
  if (range === "unsatisfiable") {
    res.status(416).set({ "Cache-Control": MEDIA_CACHE_CONTROL, "Content-Range": `bytes */${media.size}` }).end();
    return;
  }
  const body = range ?? (media.size > 0 ? { start: 0, end: media.size - 1 } : undefined);
  if (range) res.status(206).set({ ...headers, "Content-Range": `bytes ${range.start}-${range.end}/${media.size}`, "Content-Length": String(range.end - range.start + 1) });
  else res.status(200).set({ ...headers, "Content-Length": String(media.size) });
  if (!body || req.method === "HEAD") {
    res.end();
    return;
  }
  try {
    await pipeline(media.read(body), res);
  } catch (error) {
    if (clientWentAway(error, req)) log.debug("Client stopped reading {path} ({reason})", { path: media.label, reason: goneReason(error) });
    else log.warning("Streaming {path} as it arrives failed: {error}", { path: media.label, error });
  }
}

/**
 * The internal nginx URI of an opened upload: its real path (no symbolic link for nginx to follow) under
 * `/_protected/media/` (MEDIA_DIR: stored uploads, copies of remote ones) or `/_protected/files/` (an
 * in-place folder, absolute).
 */
export function accelPathOf(storage: UploadStorage, opened: Pick<OpenFile, "realPath" | "realRoot">): string {
  return storage !== "in_place"
    ? `/_protected/media/${path.relative(opened.realRoot, opened.realPath).split(path.sep).join("/")}`
    : `/_protected/files${opened.realPath.split(path.sep).join("/")}`;
}

/** nginx keeps Content-Type and Cache-Control from this response; it drops ETag/Last-Modified and uses its own. */
function planAccel(file: MediaFile, accelPath: string): Plan {
  return {
    status: 200,
    headers: {
      "Content-Type": file.mimeType,
      "Cache-Control": MEDIA_CACHE_CONTROL,
      "X-Content-Type-Options": "nosniff",
      "X-Accel-Redirect": encodeAccelPath(accelPath),
    },
  };
}

function planDirect(req: Request, file: MediaFile): Plan {
  const etag = mediaEtag(file);
  const validators = {
    ETag: etag,
    "Last-Modified": file.mtime.toUTCString(),
    "Cache-Control": MEDIA_CACHE_CONTROL,
  };
  // A 304 repeats the validators and caching headers only, no representation metadata (RFC 9110 15.4.5).
  if (isNotModified(req, etag, file.mtime)) return { status: 304, headers: validators };
  const headers = {
    ...validators,
    "Accept-Ranges": "bytes",
    "Content-Type": file.mimeType,
    "X-Content-Type-Options": "nosniff",
  };
  const range = requestedRange(req, file.size, etag, file.mtime);
  if (range === "unsatisfiable") {
    return { status: 416, headers: { ...validators, "Content-Range": `bytes */${file.size}` } };
  }
  if (range) {
    const length = range.end - range.start + 1;
    const contentRange = `bytes ${range.start}-${range.end}/${file.size}`;
    return { status: 206, headers: { ...headers, "Content-Range": contentRange, "Content-Length": String(length) }, range };
  }
  const whole = file.size > 0 ? { start: 0, end: file.size - 1 } : undefined;
  return { status: 200, headers: { ...headers, "Content-Length": String(file.size) }, range: whole };
}

/**
 * A strong ETag from size, mtime (ms) and a hash of the path. Strong, because If-Range only accepts strong
 * validators (RFC 9110 13.1.5): a player resuming a download must be able to send it back. Like nginx and
 * Apache, we take "same path, same size, same mtime" to mean "same bytes"; the path hash tells apart
 * copies with equal size and mtime without disclosing where the file lives.
 */
export function mediaEtag(file: Pick<MediaFile, "path" | "size" | "mtime">): string {
  const pathHash = createHash("sha256").update(file.path).digest("base64url").slice(0, 12);
  return `"${file.size.toString(16)}-${file.mtime.getTime().toString(16)}-${pathHash}"`;
}

/** If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2); both use weak comparison. */
function isNotModified(req: Request, etag: string, mtime: Date): boolean {
  const ifNoneMatch = req.get("if-none-match");
  if (ifNoneMatch !== undefined) return etagListMatches(ifNoneMatch, etag);
  const since = Date.parse(req.get("if-modified-since") ?? "");
  return !Number.isNaN(since) && wholeSeconds(mtime) <= since;
}

function etagListMatches(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => opaque(tag) === opaque(etag));
}

/** Only GET has range semantics (RFC 9110 14.2); a failed If-Range means "send it all". */
function requestedRange(req: Request, size: number, etag: string, mtime: Date): ByteRange | "unsatisfiable" | undefined {
  const header = req.get("range");
  if (req.method !== "GET" || header === undefined) return undefined;
  const ifRange = req.get("if-range");
  if (ifRange !== undefined && !ifRangeMatches(ifRange.trim(), etag, mtime)) return undefined;
  return parseRange(header, size);
}

/** Strong comparison for an entity tag (a weak one never matches); exact equality for a date. */
function ifRangeMatches(value: string, etag: string, mtime: Date): boolean {
  if (value.startsWith('"') || value.startsWith("W/")) return value === etag;
  return Date.parse(value) === wholeSeconds(mtime);
}

/**
 * Parses a Range header against a representation of `size` bytes. Returns undefined when the header is
 * to be ignored (the caller sends the whole file, 200): not `bytes=`, malformed, `last < first`, or
 * several ranges. RFC 9110 14.2 lets a server ignore Range; serving one 200 beats multipart/byteranges,
 * which no audio player asks for, and avoids the overlapping-ranges amplification trick.
 */
export function parseRange(header: string, size: number): ByteRange | "unsatisfiable" | undefined {
  const match = /^bytes=(.*)$/i.exec(header.trim());
  if (!match || size === 0) return undefined;
  // Empty list elements are allowed (RFC 9110 5.6.1): "bytes=0-1," is one range.
  const specs = match[1]!.split(",").map((spec) => spec.trim()).filter(Boolean);
  if (specs.length !== 1) return undefined;
  const spec = /^(\d*)-(\d*)$/.exec(specs[0]!);
  if (!spec || (spec[1] === "" && spec[2] === "")) return undefined;
  const [, first, last] = spec as unknown as [string, string, string];
  if (first === "") {
    const suffix = Number(last);
    return suffix === 0 ? "unsatisfiable" : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? Infinity : Number(last);
  if (end < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(end, size - 1) };
}

/**
 * Percent-encodes each segment, since names hold spaces, '#', '?', '%' and non-ASCII letters that a header
 * cannot carry or that nginx would read as a query. nginx decodes the URI once before matching the
 * internal location, so the file is found under its real name.
 */
export function encodeAccelPath(accelPath: string): string {
  const segments = accelPath.split("/");
  // nginx refuses "/../" anyway (404 + "unsafe URI" in its log); failing here names the real bug.
  if (!accelPath.startsWith("/") || accelPath.includes("\0") || segments.some((s) => s === "." || s === "..")) {
    throw new Error(`Refusing an unsafe X-Accel-Redirect path: ${JSON.stringify(accelPath)}`);
  }
  return segments.map((segment) => encodeURIComponent(segment)).join("/");
}

/**
 * pipeline destroys both streams on failure; the caller closes the handle once this returns, so an aborted
 * download leaks no descriptor. Nothing is rethrown: the headers are gone, and a client that went away is
 * routine, not an error.
 */
async function pipeMedia(req: Request, res: Response, handle: FileHandle, range: ByteRange, filePath: string): Promise<void> {
  const body = handle.createReadStream({ start: range.start, end: range.end, highWaterMark: 64 * 1024, autoClose: false });
  try {
    await pipeline(body, res);
  } catch (error) {
    if (clientWentAway(error, req)) log.debug("Client stopped reading {path} ({reason})", { path: filePath, reason: goneReason(error) });
    else log.warning("Streaming {path} failed: {error}", { path: filePath, error });
  }
}

function wholeSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000) * 1000;
}
