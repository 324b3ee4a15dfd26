import { getLogger } from "../../config/logging.ts";
import { NotFound } from "../../core/errors.ts";
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

/** The listener's best visible copy of the track, opened inside its folder, or Subsonic's "not found". */
async function openTrack(ctx: SubsonicContext) {
  const { catalog, uploads } = ctx.services;
  const upload = (await catalog.bestCopy(ctx.user.id, entityId(ctx))) as StreamedUpload | undefined;
  if (!upload) throw notFound();
  const opened = await uploads.openFile(upload).catch((error: unknown) => {
    throw error instanceof NotFound ? notFound() : error;
  });
  return { upload, opened };
}

type OpenedTrack = Awaited<ReturnType<typeof openTrack>>;

/** Runs `send` on the opened track, then closes its file however the answer ended. */
async function withTrack(ctx: SubsonicContext, send: (track: OpenedTrack) => Promise<void>): Promise<"sent"> {
  const track = await openTrack(ctx);
  try {
    await send(track);
  } finally {
    await track.opened.handle.close();
  }
  return "sent";
}

/**
 * `format`, `maxBitRate` and `timeOffset` may ask for ffmpeg's output (see planStream); otherwise, or
 * without ffmpeg, the original file. Neither this nor download counts a play: only scrobble does.
 */
async function stream(ctx: SubsonicContext, { upload, opened }: OpenedTrack): Promise<void> {
  const request = { format: ctx.params.get("format"), maxBitRateKbps: ctx.params.int("maxBitRate") };
  const plan = ctx.services.transcoder.plan(request, { suffix: suffixOf(upload.original_name), bitrate: upload.bitrate });
  if (plan.kind === "raw") {
    if (request.format !== undefined || request.maxBitRateKbps) log.debug("Sending the original of upload {id}: {reason}", { id: upload.id, reason: plan.reason });
    return ctx.reply.original(upload, opened, { download: false });
  }
  const offsetSeconds = timeOffset(ctx.params.get("timeOffset"));
  const duration = upload.duration_ms === null ? undefined : upload.duration_ms / 1000;
  await ctx.reply.transcoded({
    input: opened.handle,
    path: opened.realPath,
    target: plan,
    offsetSeconds,
    remainingSeconds: duration === undefined ? undefined : Math.max(0, duration - offsetSeconds),
    estimateContentLength: ctx.params.get("estimateContentLength") === "true",
  }).catch((error: unknown) => {
    throw error instanceof TranscodeFailed ? new SubsonicError(0, error.message) : error;
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
  const hash = await ctx.services.catalog.albumCoverHash(ctx.user.id, raw.toLowerCase());
  if (!hash) throw notFound();
  await ctx.reply.cover(hash, coverSizeFor(ctx.params.int("size")));
  return "sent";
}

export const mediaHandlers: Record<string, SubsonicHandler> = {
  stream: (ctx) => withTrack(ctx, (track) => stream(ctx, track)),
  // Never transcoded: a download is the file as it was uploaded.
  download: (ctx) => withTrack(ctx, ({ upload, opened }) => ctx.reply.original(upload, opened, { download: true })),
  getCoverArt,
};
