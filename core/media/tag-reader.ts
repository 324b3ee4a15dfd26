/**
 * Reads one audio file's tags and format for the importer. Runs for every imported file, so it reads headers
 * only: a structural probe (audio-probe.ts) recognises the container by content, rejects what is not audio,
 * cut short or carrying absurd tags, and finds Ogg's end; music-metadata then parses tags with the parser the
 * content calls for, never the one the file name suggests. Every failure is an UnreadableAudio whose message
 * tells a person what is wrong with the file.
 */
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { parseFromTokenizer, type IAudioMetadata } from "music-metadata";
import { FileTokenizer, fromBuffer } from "strtok3";
import { Invalid } from "../errors.ts";
import { bytesSource, probeAudio, scanMpegFrames, type AudioProbe, type ByteSource, type ProbeResult } from "./audio-probe.ts";
import type { Container } from "./audio-sniff.ts";
import { openInside, readSidecar, RefusedFile, type OpenFile } from "./safe-open.ts";
import { embeddedLyrics, lyricsFromText, toTrackTags, type FormatFacts } from "./tag-mapping.ts";
import { useNativeOggPictureDecoding } from "./ogg-picture-decoding.ts";
import { skipUndecodedOggPictures } from "./ogg-picture-skipping.ts";
import { useSharedTagMaps } from "./shared-tag-maps.ts";

await useNativeOggPictureDecoding();
await skipUndecodedOggPictures();
await useSharedTagMaps();
import type { TrackTags } from "./tags.ts";

export type UnreadableAudioCode =
  | "empty_file"
  | "unreadable_file"
  | "not_audio"
  | "unsupported_format"
  | "truncated"
  | "oversized_tags"
  | "unreadable_audio"
  | "outside_folder";

export class UnreadableAudio extends Invalid {
  constructor(code: UnreadableAudioCode, message: string, details?: unknown) {
    super(message, details, code);
  }
}

/** Tags a parser pulls into memory whole. Real covers stay far below; a bigger tag is broken or hostile. */
export const MAX_TAG_BYTES = 32 * 1024 * 1024;
/** A sidecar .lrc larger than this is not lyrics. */
const MAX_LRC_BYTES = 1024 * 1024;

/** The MIME type we serve each container as; also selects music-metadata's parser. */
const MIME_TYPES: Record<Container, string> = {
  mpeg: "audio/mpeg",
  aac: "audio/aac",
  flac: "audio/flac",
  ogg: "audio/ogg",
  mp4: "audio/mp4",
  wav: "audio/wav",
  aiff: "audio/aiff",
};
const PARSER_TYPES: Record<Container, string> = { ...MIME_TYPES, aac: "audio/aacp" };

/** Codecs we serve per container: what browsers and Subsonic apps play without transcoding. */
const PLAYABLE: Record<Container, (codec: string, metadata: IAudioMetadata) => boolean> = {
  mpeg: (codec) => codec.startsWith("MPEG"),
  aac: (codec) => codec.includes("AAC"),
  flac: (codec) => codec === "FLAC",
  ogg: (codec) => ["Vorbis I", "Opus", "FLAC"].includes(codec),
  mp4: (codec) => codec === "MPEG-4/AAC" || codec === "ALAC",
  wav: (codec) => ["PCM", "IEEE_FLOAT", "non-PCM (65534)"].includes(codec),
  aiff: (_codec, metadata) => metadata.format.lossless === true,
};

const CONTAINER_NAMES: Record<Container, string> = {
  mpeg: "an MPEG file",
  aac: "an AAC file",
  flac: "a FLAC file",
  ogg: "an Ogg file",
  mp4: "an MP4 file",
  wav: "a WAV file",
  aiff: "an AIFF file",
};
const CONVERT = "convert it to FLAC, MP3, Ogg or M4A";

/** Names that promise audio: content we cannot recognise behind them is damaged audio, not an unknown format. */
const AUDIO_EXTENSIONS = new Set(
  [".mp3", ".mp2", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".m4b", ".mp4", ".aac", ".wav", ".aif", ".aiff"],
);

/**
 * Reads one file's tags and audio properties. `bytes`, when the caller already holds the whole file
 * (the importer does for files up to a few MB, to hash them too), spares music-metadata its many small reads.
 * `skipPictures` leaves embedded pictures undecoded (`picture` is then null): decoding Ogg's base64
 * pictures is the costliest part of parsing, and the importer needs one cover per album, not per track.
 */
export interface ReadTagsOptions {
  bytes?: Uint8Array;
  /** The file, already opened inside its folder (safe-open.ts): read through it, never by name. */
  file?: Pick<OpenFile, "handle" | "size">;
  /** The folder the file and its .lrc may not lead out of (safe-open.ts); by default the file's own. */
  root?: string;
  skipPictures?: boolean;
  /** The names in the file's folder, when the caller has listed it: spares a failed open per file. */
  siblings?: ReadonlySet<string>;
  /** Characters that split a genre tag into several genres (tag-mapping.ts's default: ";"). */
  genreSeparators?: string;
}

export async function readTags(filePath: string, options: ReadTagsOptions = {}): Promise<TrackTags> {
  const root = options.root ?? path.dirname(filePath);
  // With the whole file in `bytes`, nothing is read from disk but a sidecar .lrc.
  const file = options.file ?? (options.bytes ? undefined : await openAudio(root, filePath));
  try {
    const source: ByteSource = options.bytes ? bytesSource(options.bytes) : file!.handle;
    const size = options.bytes ? options.bytes.length : file!.size;
    const probe = await probeSource(source, size, filePath);
    const metadata = await parse(file?.handle, size, probe, options.bytes, options.skipPictures ?? false);
    checkPlayable(metadata, probe.container);
    const facts = formatFacts(metadata, probe, size);
    if (facts.durationSeconds === null && (probe.container === "mpeg" || probe.container === "aac")) {
      Object.assign(facts, await countFrames(source, size, probe.start));
    }
    const tags = toTrackTags(metadata, facts, options.genreSeparators);
    const lyrics = embeddedLyrics(metadata.common.lyrics) ?? (await sidecarLyrics(filePath, root, options.siblings));
    return { ...tags, lyrics };
  } finally {
    if (!options.file) await file?.handle.close();
  }
}

/** Opens an audio file inside `root`; a refusal becomes the UnreadableAudio a person can act on. */
export async function openAudio(root: string, filePath: string): Promise<OpenFile> {
  try {
    return await openInside(root, filePath);
  } catch (error) {
    throw error instanceof RefusedFile ? refusedAudio(error) : error;
  }
}

export function refusedAudio(error: RefusedFile): UnreadableAudio {
  if (error.code === "outside_folder") {
    const message = "The file is a link to somewhere outside the music folder; put the file itself in the folder";
    return new UnreadableAudio("outside_folder", message);
  }
  if (error.code === "not_a_file") return new UnreadableAudio("unreadable_file", "This is not a file (a folder, a FIFO or a device?)");
  return cannotOpen({ code: error.errno ?? "ENOENT" });
}

async function probeSource(source: ByteSource, size: number, filePath: string): Promise<AudioProbe> {
  if (size === 0) throw new UnreadableAudio("empty_file", "The file is empty (0 bytes); copy or upload it again");
  try {
    return checkProbe(await probeAudio(source, size), filePath);
  } catch (error) {
    throw isFsError(error) ? cannotOpen(error) : error;
  }
}

function checkProbe(result: ProbeResult, filePath: string): AudioProbe {
  if (!result.ok) throw rejection(result, filePath);
  if (result.probe.truncation) throw truncated(result.probe.truncation);
  if (result.probe.tagBytes > MAX_TAG_BYTES) throw oversized(result.probe.tagBytes);
  return result.probe;
}

function cannotOpen(error: { code?: string }): UnreadableAudio {
  const code = error.code ?? "unknown error";
  const reasons: Record<string, string> = {
    ENOENT: "The file does not exist (moved or deleted?)",
    EACCES: "The file cannot be read: permission denied",
    EPERM: "The file cannot be read: permission denied",
    EISDIR: "This is not a file (a folder?)",
    EIO: "The file cannot be read: the disk reported an input/output error",
  };
  return new UnreadableAudio("unreadable_file", reasons[code] ?? `The file cannot be read (${code})`, { cause: code });
}

function rejection(result: Exclude<ProbeResult, { ok: true }>, filePath: string): UnreadableAudio {
  if (result.kind === "unknown") return unknownContent(result.tagged, filePath);
  if (result.kind === "unsupported") {
    const message = `Unsupported format: ${result.what} is not audio we can play; ${CONVERT}`;
    return new UnreadableAudio("unsupported_format", message);
  }
  return new UnreadableAudio("not_audio", `This is not an audio file: it looks like ${result.what}`);
}

/** Nothing we recognise: damaged audio if it was meant to be audio (its name or an ID3 tag says so). */
function unknownContent(tagged: boolean, filePath: string): UnreadableAudio {
  const extension = path.extname(filePath).toLowerCase();
  if (tagged || AUDIO_EXTENSIONS.has(extension)) {
    const claimed = AUDIO_EXTENSIONS.has(extension) ? `a ${extension} file` : "an audio file";
    return new UnreadableAudio("unreadable_audio", `No audio found: the file is damaged, or it is not really ${claimed}`);
  }
  const named = /^\.[\p{L}\p{N}]{1,10}$/u.test(extension) ? `${extension} files are` : "this file is";
  return new UnreadableAudio("unsupported_format", `Unsupported format: ${named} not audio we can play`);
}

function isFsError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === "string";
}

function truncated(detail: string): UnreadableAudio {
  return new UnreadableAudio("truncated", `The file is cut short or damaged: ${detail}; copy or upload it again`);
}

function oversized(bytes: number): UnreadableAudio {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  const message =
    `The file's tags take ${mb(bytes)}, more than the ${mb(MAX_TAG_BYTES)} we accept: ` +
    "it probably embeds a huge or broken picture; remove or shrink the embedded cover and try again";
  return new UnreadableAudio("oversized_tags", message, { tagBytes: bytes });
}

async function parse(
  handle: FileHandle | undefined,
  size: number,
  probe: AudioProbe,
  bytes: Uint8Array | undefined,
  skipCovers: boolean,
): Promise<IAudioMetadata> {
  try {
    // A file tokenizer reads with positioned reads (a Blob copies every chunk through a stream: ~1 ms a
    // file); the MIME type we found by content, not the file name, picks the parser.
    const tokenizer = bytes ? fromBuffer(bytes, { fileInfo: { size: bytes.length } }) : new BorrowedFileTokenizer(handle!, size);
    try {
      tokenizer.fileInfo.mimeType = PARSER_TYPES[probe.container];
      // No `duration: true`: it makes music-metadata read every Ogg page and every frame of a VBR MP3 without a
      // Xing header, one small read each (seconds per file). The probe finds Ogg's end; countFrames does MPEG.
      return await parseFromTokenizer(tokenizer, { duration: false, skipCovers });
    } finally {
      await tokenizer.close();
    }
  } catch (error) {
    throw parseFailure(error);
  }
}

/**
 * A VBR MP3 without Xing/VBRI header (or raw AAC) states no duration: count its frames, a sequential read
 * of the file, paid only by those rare files. Its bitrate is then the true average too.
 */
async function countFrames(source: ByteSource, size: number, start: number): Promise<Partial<FormatFacts>> {
  try {
    const scanned = await scanMpegFrames(source, size, start);
    return scanned ? { durationSeconds: scanned.seconds, bitrate: scanned.bitrate } : {};
  } catch (error) {
    throw isFsError(error) ? cannotOpen(error) : error;
  }
}

/** A tokenizer over a descriptor its caller owns: closing the tokenizer leaves the descriptor open. */
class BorrowedFileTokenizer extends FileTokenizer {
  constructor(handle: FileHandle, size: number) {
    super(handle, { fileInfo: { size } });
  }

  protected override async closeOnce(): Promise<void> {}
}

function parseFailure(error: unknown): UnreadableAudio {
  const { name, message } = error instanceof Error ? error : new Error(String(error));
  if (name === "EndOfStreamError") return truncated("it ends in the middle of its data");
  if (name === "NotReadableError" || isFsError(error)) return cannotOpen(error as { code?: string });
  const detail = message.length > 200 ? `${message.slice(0, 200)}...` : message;
  const text = `The audio could not be read, the file looks damaged: ${detail}`;
  return new UnreadableAudio("unreadable_audio", text, { cause: name });
}

function checkPlayable(metadata: IAudioMetadata, container: Container): void {
  const { format } = metadata;
  if (format.hasVideo) {
    throw new UnreadableAudio("not_audio", "This is a video, not an audio file; extract its audio track to import it");
  }
  const codec = format.codec ?? "";
  if (!format.hasAudio || !format.sampleRate || !codec) {
    const message = "No audio found: the file is damaged, or its audio is in a form we do not know";
    throw new UnreadableAudio("unreadable_audio", message);
  }
  if (!PLAYABLE[container](codec, metadata)) {
    const message = `Unsupported format: ${codec} audio in ${CONTAINER_NAMES[container]} is not audio we can play; ${CONVERT}`;
    throw new UnreadableAudio("unsupported_format", message);
  }
}

/** Duration and bitrate where music-metadata stops early: Ogg (the probe read the last page). */
function formatFacts(metadata: IAudioMetadata, probe: AudioProbe, size: number): FormatFacts {
  const { format } = metadata;
  let durationSeconds = format.duration ?? null;
  let bitrate = format.bitrate ?? null;
  const ogg = probe.ogg;
  if (durationSeconds === null && ogg?.lastGranule && format.sampleRate) {
    const opus = format.codec === "Opus";
    durationSeconds = opus ? (ogg.lastGranule - ogg.preSkip) / 48_000 : ogg.lastGranule / format.sampleRate;
  }
  if (bitrate === null && ogg && durationSeconds) bitrate = ((size - ogg.audioStart) * 8) / durationSeconds;
  return { mimeType: MIME_TYPES[probe.container], durationSeconds, bitrate };
}

/**
 * Lyrics beside the audio file: same name, .lrc extension. The name is used as given (string surgery, no path
 * normalisation), and lyrics are optional: any problem reading them (absent, too big, a FIFO, a link out of
 * the folder: safe-open.ts) means no lyrics, never a failed import.
 */
async function sidecarLyrics(filePath: string, root: string, siblings: ReadonlySet<string> | undefined): Promise<TrackTags["lyrics"]> {
  const extension = path.extname(filePath);
  if (extension.toLowerCase() === ".lrc") return null;
  const base = filePath.slice(0, filePath.length - extension.length);
  for (const suffix of [".lrc", ".LRC"]) {
    if (siblings && !siblings.has(path.basename(base + suffix))) continue;
    const bytes = await readSidecar(root, base + suffix, MAX_LRC_BYTES).catch(() => null);
    if (bytes) return lyricsFromText(decodeText(bytes));
  }
  return null;
}

/** UTF-8 as most .lrc files are; older ones are Latin-1 (Windows-1252), which would otherwise come out garbled. */
function decodeText(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}
