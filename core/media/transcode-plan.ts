// Whether a stream request is answered with the original file or with ffmpeg's output, and ffmpeg's
// arguments for it. Pure functions: the Transcoder runs the process, the HTTP layer sends the bytes.

export type TranscodeFormat = "mp3" | "opus";

/** What a listener asked for, as Subsonic's `stream` carries it. */
export interface StreamRequest {
  /** `format`: "raw" (never transcode), a target such as "mp3" or "opus", or absent. */
  format?: string;
  /** `maxBitRate` in kbit/s; 0 or absent means no limit. */
  maxBitRateKbps?: number;
}

/** The file that would be sent. */
export interface SourceAudio {
  /** Lower-case file suffix ("flac", "mp3"). */
  suffix: string;
  /** Average bit rate in bit/s, when the importer could tell. */
  bitrate: number | null;
}

export interface TranscodeTarget {
  format: TranscodeFormat;
  bitrateKbps: number;
}

export type StreamPlan = { kind: "raw"; reason: string } | ({ kind: "transcode" } & TranscodeTarget);

/**
 * Opus when only `maxBitRate` asks for less (Navidrome's default too): at equal bit rate it sounds better
 * than MP3, and current Subsonic clients play Ogg Opus; one that cannot asks for `format=mp3`.
 */
export const DEFAULT_FORMAT: TranscodeFormat = "opus";

/** Bit rates used when a format is asked without `maxBitRate` (Navidrome's defaults). */
const DEFAULT_KBPS: Record<TranscodeFormat, number> = { mp3: 192, opus: 128 };

/** The bit rates an MPEG-1 Layer III frame can declare; LAME's CBR mode only writes these. */
const MP3_KBPS = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];

/** Opus is transparent well below 256 kbit/s and barely intelligible under 16. */
const OPUS_KBPS = { min: 16, max: 256 };

export const TRANSCODE_CONTENT_TYPES: Record<TranscodeFormat, string> = { mp3: "audio/mpeg", opus: "audio/ogg" };

/**
 * Subsonic's rules, as Navidrome applies them: `format=raw` never transcodes; an explicit format transcodes
 * unless it is the source's own and the source is within `maxBitRate`; without a format, only a source
 * above `maxBitRate` is transcoded, to DEFAULT_FORMAT. A format we cannot produce falls back to
 * `fallback` (the default format, or the one this ffmpeg can encode).
 */
export function planStream(request: StreamRequest, source: SourceAudio, fallback: TranscodeFormat = DEFAULT_FORMAT): StreamPlan {
  const asked = request.format?.trim().toLowerCase() || undefined;
  const limit = request.maxBitRateKbps && request.maxBitRateKbps > 0 ? request.maxBitRateKbps : undefined;
  const sourceKbps = source.bitrate ? Math.round(source.bitrate / 1000) : undefined;
  const withinLimit = limit === undefined || sourceKbps === undefined || sourceKbps <= limit;
  if (asked === "raw") return { kind: "raw", reason: "format=raw asks for the original" };
  if (asked !== undefined) {
    if (sameFormat(asked, source.suffix) && withinLimit) return { kind: "raw", reason: `the source is already ${asked} within the limit` };
    const format = isTranscodeFormat(asked) ? asked : fallback;
    return { kind: "transcode", format, bitrateKbps: clampBitrate(format, limit ?? DEFAULT_KBPS[format]) };
  }
  if (limit === undefined) return { kind: "raw", reason: "no format or bit rate limit was asked" };
  if (sourceKbps === undefined) return { kind: "raw", reason: "the source's bit rate is unknown" };
  if (withinLimit) return { kind: "raw", reason: `the source (${sourceKbps} kbit/s) is within maxBitRate=${limit}` };
  return { kind: "transcode", format: fallback, bitrateKbps: clampBitrate(fallback, limit) };
}

export function isTranscodeFormat(value: string): value is TranscodeFormat {
  return value === "mp3" || value === "opus";
}

/** "ogg" files may hold Vorbis, FLAC or Opus, so only the exact suffix counts as the same format. */
function sameFormat(asked: string, suffix: string): boolean {
  return asked === suffix.toLowerCase();
}

/** MP3: the highest frame bit rate not above the ask (at least 32); Opus: within OPUS_KBPS. */
export function clampBitrate(format: TranscodeFormat, kbps: number): number {
  if (format === "mp3") return MP3_KBPS.findLast((rate) => rate <= kbps) ?? MP3_KBPS[0]!;
  return Math.min(OPUS_KBPS.max, Math.max(OPUS_KBPS.min, Math.round(kbps)));
}

/**
 * `-ss` before `-i` seeks the input (fast, and exact for audio since ffmpeg 2.1). Only the first audio
 * stream is mapped: embedded covers are video streams and would break an audio-only muxer. Tags are
 * dropped: Subsonic clients show the API's metadata, and the stream stays small. The input is given as
 * `file:<absolute path>` so no name (a leading "-", a "concat:" prefix) is read as an option or protocol.
 */
export function ffmpegArgs(inputPath: string, target: TranscodeTarget, offsetSeconds = 0): string[] {
  const seek = offsetSeconds > 0 ? ["-ss", offsetSeconds.toFixed(3)] : [];
  const encoder =
    target.format === "mp3"
      ? ["-c:a", "libmp3lame", "-b:a", `${target.bitrateKbps}k`, "-f", "mp3"]
      : ["-c:a", "libopus", "-b:a", `${target.bitrateKbps}k`, "-ar", "48000", "-f", "ogg"];
  return [
    ...["-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"],
    ...seek,
    ...["-i", `file:${inputPath}`],
    ...["-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1"],
    ...encoder,
    "pipe:1",
  ];
}

/** `estimateContentLength`: what `seconds` of audio at the target bit rate weigh. */
export function estimatedBytes(target: TranscodeTarget, seconds: number): number {
  return Math.ceil((Math.max(0, seconds) * target.bitrateKbps * 1000) / 8);
}
