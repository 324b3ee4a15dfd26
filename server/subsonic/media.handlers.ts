import { getLogger } from "../../config/logging.ts";
import { NotFound } from "../../core/errors.ts";
import type { PlayableAudio } from "../../core/library/playable-audio.ts";
import type { UploadRow } from "../../core/library/uploads.service.ts";
import { COVER_THUMBNAIL_SIZES, type CoverSize } from "../../core/media/artwork.ts";
import { TranscodeFailed } from "../http/send-transcode.ts";
import { entityId } from "./browsing.handlers.ts";
import type { SubsonicContext, SubsonicHandler } from "./context.ts";
import { SubsonicError } from "./response.ts";

const log = getLogger(["polyphony", "subsonic", "media"]);
const notFound = () => new SubsonicError(70, "Requested data was not found");

/** `SELECT u.*` carries every column; these two decide and size transcodes. */
type StreamedUpload = UploadRow & { bitrate: number | null; duration_ms: number | null };

/** The listener's best visible copy of the track, or Subsonic's "not found". */
async function bestCopy(ctx: SubsonicContext): Promise<StreamedUpload> {
  const upload = (await ctx.services.catalog.bestCopy(ctx.user.id, entityId(ctx))) as StreamedUpload | undefined;
  if (!upload) throw notFound();
  return upload;
}

/**
 * Opens the upload's audio (a file, or a remote upload's bytes as its first download brings them; `whole`:
 * always a file, for ffmpeg), runs `send` on it, then closes it however the answer ended.
 */
async function withAudio(ctx: SubsonicContext, upload: StreamedUpload, whole: boolean, send: (audio: PlayableAudio) => Promise<void>): Promise<"sent"> {
  const audio = await ctx.services.playback.open(upload, ctx.user.id, { whole }).catch((error: unknown) => {
    throw error instanceof NotFound ? notFound() : error;
  });
  try {
    await send(audio);
  } finally {
    await audio.close();
  }
  return "sent";
}

/**
 * `format`, `maxBitRate` and `timeOffset` may ask for ffmpeg's output (see planStream); otherwise, or
 * without ffmpeg, the original file. Neither this nor download counts a play: only scrobble does.
 */
async function stream(ctx: SubsonicContext): Promise<"sent"> {
  const upload = await bestCopy(ctx);
  const request = { format: ctx.params.get("format"), maxBitRateKbps: ctx.params.int("maxBitRate") };
  const plan = ctx.services.transcoder.plan(request, { suffix: suffixOf(upload.original_name), bitrate: upload.bitrate });
  if (plan.kind === "raw") {
    if (request.format !== undefined || request.maxBitRateKbps) log.debug("Sending the original of upload {id}: {reason}", { id: upload.id, reason: plan.reason });
    return withAudio(ctx, upload, false, (audio) => ctx.reply.original(upload, audio, { download: false }));
  }
  const offsetSeconds = timeOffset(ctx.params.get("timeOffset"));
  const duration = upload.duration_ms === null ? undefined : upload.duration_ms / 1000;
  return withAudio(ctx, upload, true, async (audio) => {
    if (audio.kind !== "file") throw new Error("a transcode needs the whole file");
    await ctx.reply.transcoded({
      input: audio.file.handle,
      path: audio.file.realPath,
      target: plan,
      offsetSeconds,
      remainingSeconds: duration === undefined ? undefined : Math.max(0, duration - offsetSeconds),
      estimateContentLength: ctx.params.get("estimateContentLength") === "true",
    }).catch((error: unknown) => {
      throw error instanceof TranscodeFailed ? new SubsonicError(0, error.message) : error;
    });
  });
}

function suffixOf(name: string): string {
  return /\.([A-Za-z0-9]{1,5})$/.exec(name)?.[1]?.toLowerCase() ?? "";
}

/** Seconds, whole or not (clients differ); anything else starts at the beginning. */
function timeOffset(value: string | undefined): number {
  const seconds = Number(value ?? 0);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
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
  const hash = await ctx.services.covers.hashFor(ctx.user.id, raw.toLowerCase());
  if (!hash) throw notFound();
  await ctx.reply.cover(hash, coverSizeFor(ctx.params.int("size")));
  return "sent";
}

export const mediaHandlers: Record<string, SubsonicHandler> = {
  stream,
  // Never transcoded: a download is the file as it was uploaded.
  download: async (ctx) => {
    const upload = await bestCopy(ctx);
    return withAudio(ctx, upload, false, (audio) => ctx.reply.original(upload, audio, { download: true }));
  },
  getCoverArt,
};
