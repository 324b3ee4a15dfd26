import type { FileHandle } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { Request, Response } from "express";
import { getLogger } from "../../config/logging.ts";
import { estimatedBytes, TRANSCODE_CONTENT_TYPES, type TranscodeTarget } from "../../core/media/transcode-plan.ts";
import type { RunningTranscode, Transcoder } from "../../core/media/transcoder.ts";
import { clientWentAway, goneReason } from "./client-gone.ts";
import { MEDIA_CACHE_CONTROL } from "./send-media.ts";

const log = getLogger(["polyphony", "http", "transcode"]);

/** Seconds a client is told to wait when every transcode slot is taken. */
export const TRANSCODE_RETRY_AFTER_SECONDS = 5;

/** ffmpeg failed before sending anything (an unreadable file): the caller can still answer with an error. */
export class TranscodeFailed extends Error {
  override name = "TranscodeFailed";
  constructor() {
    super("The file could not be transcoded");
  }
}

/** ffmpeg failed after the answer started (already logged with its stderr). */
class FfmpegFailedMidway extends Error {}

export interface TranscodeJob {
  /** The source, opened through the folder boundary (core/media/safe-open.ts); ffmpeg reads this very file. */
  input: FileHandle;
  /** Names the source in the log. */
  path: string;
  target: TranscodeTarget;
  offsetSeconds: number;
  /** Seconds of audio from the offset to the end, when known. */
  remainingSeconds: number | undefined;
  /** Send a Content-Length of duration x bit rate, and exactly that many bytes. */
  estimateContentLength: boolean;
}

/**
 * Answers a GET or HEAD with ffmpeg's output, after the caller has checked access and decided to
 * transcode. A pipe cannot seek, so `Accept-Ranges: none` and a Range header is ignored (200). Without an
 * estimated length the body is chunked. HEAD answers the same headers without starting ffmpeg.
 * When ffmpeg fails before its first byte, this throws TranscodeFailed (already logged).
 */
export async function sendTranscode(req: Request, res: Response, transcoder: Transcoder, job: TranscodeJob): Promise<void> {
  const length = job.estimateContentLength && job.remainingSeconds !== undefined ? estimatedBytes(job.target, job.remainingSeconds) : undefined;
  const headers: Record<string, string> = {
    "Content-Type": TRANSCODE_CONTENT_TYPES[job.target.format],
    "Accept-Ranges": "none",
    "Cache-Control": MEDIA_CACHE_CONTROL,
    "X-Content-Type-Options": "nosniff",
    ...(job.remainingSeconds !== undefined ? { "X-Content-Duration": job.remainingSeconds.toFixed(2) } : {}),
    ...(length !== undefined ? { "Content-Length": String(length) } : {}),
  };
  if (req.method === "HEAD") {
    res.status(200).set(headers).end();
    return;
  }
  const running = transcoder.start(job.input, job.target, job.offsetSeconds);
  if (!running) {
    // A plain HTTP 429, not a Subsonic error envelope: players treat any 200 on `stream` as audio, while
    // they understand a 429 with Retry-After (Navidrome answers the same way).
    log.info("Every transcode slot is taken; answering 429");
    res.status(429).set("Retry-After", String(TRANSCODE_RETRY_AFTER_SECONDS)).type("text/plain").send("Too many transcodes running; retry shortly\n");
    return;
  }
  // The listener leaving (skip, seek, closed app) ends ffmpeg and frees its slot, whatever stage we are at.
  res.once("close", () => running.stop());
  const chunks = running.output[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await chunks.next().catch(() => ({ done: true, value: undefined }) as const);
  if (first.done) {
    const exit = await running.exited;
    if (exit.stopped) return; // the listener left before the first byte
    if (exit.code !== 0) {
      log.warning("ffmpeg could not transcode {path}: {stderr}", { path: job.path, stderr: exit.stderr || `exit code ${exit.code}` });
      throw new TranscodeFailed();
    }
  }
  res.status(200).set(headers);
  try {
    await pipeline(body(first, chunks, running, length, job.path), res);
  } catch (error) {
    // Headers are gone: the connection is cut, so the client sees an error (an unterminated chunked body,
    // or fewer bytes than Content-Length) rather than a silently short file.
    if (clientWentAway(error, req)) log.debug("Client stopped reading the transcode of {path} ({reason})", { path: job.path, reason: goneReason(error) });
    else if (!(error instanceof FfmpegFailedMidway)) log.warning("Transcode of {path} failed: {error}", { path: job.path, error });
  } finally {
    running.stop();
  }
}

/**
 * ffmpeg's output, then (with a Content-Length) cut or padded with zero bytes to exactly that length: the
 * estimate never matches the encoder, and HTTP forbids sending more or fewer bytes than announced.
 * Decoders skip trailing zeros after the last frame or Ogg page. A failed ffmpeg throws instead of padding.
 */
async function* body(
  first: IteratorResult<Buffer>,
  rest: AsyncIterator<Buffer>,
  running: RunningTranscode,
  length: number | undefined,
  path: string,
): AsyncGenerator<Buffer> {
  let sent = 0;
  for (let next = first; !next.done; next = await rest.next()) {
    const chunk = length === undefined ? next.value : next.value.subarray(0, length - sent);
    sent += chunk.length;
    if (chunk.length) yield chunk;
    if (length !== undefined && sent >= length) {
      running.stop();
      return;
    }
  }
  const exit = await running.exited;
  if (exit.code !== 0 && !exit.stopped) {
    log.warning("ffmpeg failed on {path} after {sent} bytes: {stderr}", { path, sent, stderr: exit.stderr });
    throw new FfmpegFailedMidway();
  }
  if (length === undefined) return;
  const zeros = Buffer.alloc(64 * 1024);
  for (let left = length - sent; left > 0; left -= zeros.length) yield zeros.subarray(0, Math.min(left, zeros.length));
}
