/**
 * A cheap structural look at an audio file before music-metadata parses it: which container it really is (by
 * content, not name), how many bytes of tags a parser would pull into memory, whether the file is cut short,
 * and, for Ogg, the end position music-metadata only finds by reading the whole file. It reads headers only:
 * a few small reads at the start and the end, never the audio.
 */
import type { FileHandle } from "node:fs/promises";
import { declaredMpegBytes, mpegHeaderAt, sniff, type Container, type MpegHeader } from "./audio-sniff.ts";
import { flacEndSample, parseStreamInfo, type StreamInfo } from "./flac-frames.ts";

export interface OggEnd {
  /** Granule position (samples) of the last page of the first stream; null when none could be found. */
  lastGranule: number | null;
  /** Opus pre-skip in 48 kHz samples, subtracted from the granule position for the duration. */
  preSkip: number;
  /** Offset of the first audio page: everything before it is headers and tags. */
  audioStart: number;
}

export interface AudioProbe {
  container: Container;
  /** Where the content starts, after any ID3v2 tag (and junk before the first MPEG frame). */
  start: number;
  /** Bytes of tag data a parser would read into memory (ID3v2, FLAC blocks, Ogg headers, MP4 moov, RIFF chunks). */
  tagBytes: number;
  /** Why the file looks cut short, or null. */
  truncation: string | null;
  ogg: OggEnd | null;
}

export type ProbeResult =
  | { ok: true; probe: AudioProbe }
  | { ok: false; kind: "not_audio" | "unsupported"; what: string }
  /** Nothing recognisable; `tagged`: it starts with an ID3 tag, so it was meant to be an MP3. */
  | { ok: false; kind: "unknown"; tagged: boolean };

/** How far into the content we look for the first MPEG frame (files may start with junk or padding). */
const SNIFF_BYTES = 64 * 1024;
/** Read size for the MPEG frame count. */
const SCAN_WINDOW = 1024 * 1024;
/** Loop guards for hostile files made of millions of tiny boxes, chunks or pages. */
const MAX_STRUCTURES = 100_000;

/** Positioned reads: an open file, or the whole file already in memory (bytesSource). */
export type ByteSource = Pick<FileHandle, "read">;

export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    read: (async (buffer: Buffer, offset: number, length: number, position: number) => {
      const chunk = bytes.subarray(position, position + length);
      buffer.set(chunk, offset);
      return { bytesRead: chunk.length, buffer };
    }) as ByteSource["read"],
  };
}

class Reader {
  readonly handle: ByteSource;
  readonly size: number;
  constructor(handle: ByteSource, size: number) {
    this.handle = handle;
    this.size = size;
  }
  async at(position: number, length: number): Promise<Buffer> {
    const wanted = Math.max(0, Math.min(length, this.size - position));
    const buffer = Buffer.alloc(wanted);
    const { bytesRead } = await this.handle.read(buffer, 0, wanted, position);
    return buffer.subarray(0, bytesRead);
  }
}

export async function probeAudio(handle: ByteSource, size: number): Promise<ProbeResult> {
  const reader = new Reader(handle, size);
  const id3 = await id3v2Prefix(reader);
  if (id3.end >= size) {
    const truncation = id3.end > size ? "the ID3 tag is longer than the file" : "the file ends right after its ID3 tag";
    return { ok: true, probe: { container: "mpeg", start: id3.end, tagBytes: id3.end, truncation, ogg: null } };
  }
  const head = await reader.at(id3.end, SNIFF_BYTES);
  const sniffed = sniff(head, id3.end + head.length === size);
  if (sniffed.kind === "unknown") return { ok: false, kind: "unknown", tagged: id3.end > 0 };
  if (sniffed.kind !== "audio") return { ok: false, kind: sniffed.kind, what: sniffed.what };
  const start = id3.end + sniffed.start;
  const walked = await WALKERS[sniffed.container](reader, start, head.subarray(sniffed.start));
  const { tagBytes, truncation, ogg } = walked;
  const total = id3.end + tagBytes + (await apeTagBytes(reader));
  return { ok: true, probe: { container: sniffed.container, start, tagBytes: total, truncation, ogg: ogg ?? null } };
}

/** An APEv2 tag at the end (before any ID3v1 tag), which music-metadata reads whole whatever the container. */
async function apeTagBytes(reader: Reader): Promise<number> {
  const tail = await reader.at(Math.max(0, reader.size - 160), 160);
  const id3v1 = tail.length >= 128 && tail.toString("latin1", tail.length - 128, tail.length - 125) === "TAG";
  const footer = tail.length - (id3v1 ? 128 : 0) - 32;
  if (footer < 0 || tail.toString("latin1", footer, footer + 8) !== "APETAGEX") return 0;
  return tail.readUInt32LE(footer + 12);
}

/**
 * Duration of an MPEG or ADTS stream by counting its frames: for VBR MP3s without a Xing/VBRI header (rare),
 * where nothing else tells. Reads the file once in large windows, so it costs a sequential read, not a
 * read per frame.
 */
export async function scanMpegFrames(
  handle: ByteSource,
  size: number,
  start: number,
): Promise<{ seconds: number; bitrate: number } | null> {
  const reader = new Reader(handle, size);
  let samples = 0;
  let bytes = 0;
  let stream: MpegHeader | null = null;
  for (let at = start; at < size; ) {
    const window = await reader.at(at, SCAN_WINDOW);
    let i = 0;
    while (i + 7 <= window.length) {
      const header = mpegHeaderAt(window, i);
      if (!header || (stream && header.key !== stream.key)) {
        i++; // junk between frames, or an ID3v1/APE tag at the end
        continue;
      }
      if (i + header.length > window.length && at + window.length < size) break; // continue in the next window
      stream ??= header;
      samples += header.samples;
      bytes += header.length;
      i += header.length;
    }
    if (i === 0) break;
    at += i;
  }
  if (!stream || samples === 0) return null;
  const seconds = samples / stream.sampleRate;
  return { seconds, bitrate: (bytes * 8) / seconds };
}

/** Skips ID3v2 tags at the start (some files carry several back to back). */
async function id3v2Prefix(reader: Reader): Promise<{ end: number }> {
  let end = 0;
  for (let count = 0; count < 8; count++) {
    const h = await reader.at(end, 10);
    const sizeBytes = h.subarray(6, 10);
    const isTag = h.length === 10 && h.toString("latin1", 0, 3) === "ID3" && h[3]! < 0xff;
    if (!isTag || sizeBytes.some((b) => b >= 0x80)) break;
    const body = (sizeBytes[0]! << 21) | (sizeBytes[1]! << 14) | (sizeBytes[2]! << 7) | sizeBytes[3]!;
    end += 10 + body + (h[5]! & 0x10 ? 10 : 0);
  }
  return { end };
}

interface Walked {
  tagBytes: number;
  truncation: string | null;
  ogg?: OggEnd;
}

type Walker = (reader: Reader, start: number, head: Buffer) => Promise<Walked>;

const WALKERS: Record<Container, Walker> = {
  mpeg: walkMpeg,
  aac: async () => ({ tagBytes: 0, truncation: null }),
  flac: walkFlac,
  ogg: walkOgg,
  mp4: walkMp4,
  wav: (reader, start) => walkChunks(reader, start, "le", "data"),
  aiff: (reader, start) => walkChunks(reader, start, "be", "SSND"),
};

/** Compares the audio size an MP3's Xing/VBRI header declares with what the file holds. */
async function walkMpeg(reader: Reader, start: number, head: Buffer): Promise<Walked> {
  const declared = declaredMpegBytes(head, 0);
  if (declared === null) return { tagBytes: 0, truncation: null };
  const tail = await reader.at(Math.max(start, reader.size - 128), 128);
  const id3v1 = tail.length === 128 && tail.toString("latin1", 0, 3) === "TAG" ? 128 : 0;
  const held = reader.size - start - id3v1;
  // Encoders count slightly differently (LAME includes the tag frame); only a real shortfall counts.
  if (held >= declared * 0.98) return { tagBytes: 0, truncation: null };
  return { tagBytes: 0, truncation: `the MP3 header announces ${declared} bytes of audio, the file holds ${held}` };
}

/** Walks the metadata blocks up to the first audio frame, then checks the last frames reach the announced end. */
async function walkFlac(reader: Reader, start: number, head: Buffer): Promise<Walked> {
  // STREAMINFO (block type 0) must come first; its body follows "fLaC" and the 4-byte block header.
  const info = (head[4]! & 0x7f) === 0 ? parseStreamInfo(head.subarray(8, 42)) : null;
  let at = start + 4;
  for (let count = 0; count < MAX_STRUCTURES; count++) {
    const header = await reader.at(at, 4);
    if (header.length < 4) return { tagBytes: at - start, truncation: "the file ends inside the FLAC header blocks" };
    at += 4 + header.readUIntBE(1, 3);
    if (header[0]! & 0x80) break;
  }
  if (at > reader.size) return { tagBytes: at - start, truncation: "the FLAC header blocks run past the end of the file" };
  if (at === reader.size) return { tagBytes: at - start, truncation: "the file has FLAC headers but no audio" };
  return { tagBytes: at - start, truncation: info ? await flacShortfall(reader, at, info) : null };
}

async function flacShortfall(reader: Reader, audioStart: number, info: StreamInfo): Promise<string | null> {
  if (info.totalSamples === 0 || info.sampleRate === 0) return null;
  const from = Math.max(audioStart, reader.size - 64 * 1024);
  const end = flacEndSample(await reader.at(from, reader.size - from), info);
  if (end === null || end >= info.totalSamples) return null;
  const time = (samples: number) => {
    const seconds = Math.floor(samples / info.sampleRate);
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  };
  return `the FLAC audio stops at ${time(end)} of ${time(info.totalSamples)}`;
}

interface Box {
  type: string;
  start: number;
  length: number;
}

async function boxAt(reader: Reader, at: number): Promise<Box | null> {
  const h = await reader.at(at, 16);
  if (h.length < 8) return null;
  let length = h.readUInt32BE(0);
  if (length === 1 && h.length === 16) length = Number(h.readBigUInt64BE(8));
  else if (length === 0) length = reader.size - at;
  return { type: h.toString("latin1", 4, 8), start: at, length };
}

/** Walks the top-level boxes: one running past the end means a cut file; moov holds the tags. */
async function walkMp4(reader: Reader, start: number): Promise<Walked> {
  let moov = 0;
  let at = start;
  for (let count = 0; at < reader.size && count < MAX_STRUCTURES; count++) {
    const box = await boxAt(reader, at);
    if (!box || box.length < 8) return { tagBytes: moov, truncation: "the file ends inside an MP4 box header" };
    if (box.type === "moov") moov = box.length;
    if (at + box.length > reader.size) {
      const truncation = `the MP4 '${box.type}' box needs ${box.length} bytes, the file holds ${reader.size - at}`;
      return { tagBytes: moov, truncation };
    }
    at += box.length;
  }
  return { tagBytes: moov, truncation: moov ? null : "the MP4 index (moov box) is missing" };
}

/** RIFF/WAVE (little-endian sizes) or FORM/AIFF (big-endian): every chunk but the audio one is tags. */
async function walkChunks(reader: Reader, start: number, endian: "le" | "be", audioId: string): Promise<Walked> {
  let tagBytes = 0;
  let at = start + 12;
  for (let count = 0; at + 8 <= reader.size && count < MAX_STRUCTURES; count++) {
    const h = await reader.at(at, 8);
    const id = h.toString("latin1", 0, 4);
    const length = endian === "le" ? h.readUInt32LE(4) : h.readUInt32BE(4);
    // Unfinished recordings leave the audio size at 0 or 0xFFFFFFFF: "until the end of the file".
    if (id === audioId && (length === 0 || length === 0xffffffff)) break;
    if (at + 8 + length > reader.size) {
      const truncation = `the '${id.trim()}' chunk needs ${length} bytes, the file holds ${reader.size - at - 8}`;
      return { tagBytes, truncation };
    }
    if (id !== audioId) tagBytes += length;
    at += 8 + length + (length & 1);
  }
  return { tagBytes, truncation: null };
}

interface OggPage {
  granule: bigint;
  serial: number;
  headerLength: number;
  bodyLength: number;
}

function oggPageAt(bytes: Buffer, at: number): OggPage | null {
  if (bytes.toString("latin1", at, at + 4) !== "OggS" || at + 27 > bytes.length || bytes[at + 4] !== 0) return null;
  const segments = bytes[at + 26]!;
  if (at + 27 + segments > bytes.length) return null;
  let bodyLength = 0;
  for (let i = 0; i < segments; i++) bodyLength += bytes[at + 27 + i]!;
  return {
    granule: bytes.readBigInt64LE(at + 6),
    serial: bytes.readUInt32LE(at + 14),
    headerLength: 27 + segments,
    bodyLength,
  };
}

/**
 * Walks the header pages (tags, possibly with pictures, can span many) to where audio starts, then reads the
 * last page for the final granule position: the duration without reading the audio.
 */
async function walkOgg(reader: Reader, start: number, head: Buffer): Promise<Walked> {
  const first = oggPageAt(head, 0);
  if (!first) return { tagBytes: 0, truncation: "the first Ogg page is cut short" };
  const body = head.subarray(first.headerLength);
  const preSkip = body.toString("latin1", 0, 8) === "OpusHead" && body.length >= 12 ? body.readUInt16LE(10) : 0;
  let at = start;
  for (let count = 0; at < reader.size && count < MAX_STRUCTURES; count++) {
    const page = oggPageAt(await reader.at(at, 282), 0);
    if (!page) return { tagBytes: at - start, truncation: "the file ends inside the Ogg headers" };
    if (page.serial === first.serial && page.granule > 0n) break;
    at += page.headerLength + page.bodyLength;
  }
  const last = await lastOggPage(reader, first.serial);
  const ogg = { lastGranule: last.granule, preSkip, audioStart: at };
  return { tagBytes: at - start, truncation: last.truncation, ogg };
}

/** An Ogg page is at most 65,307 bytes, so the last page starts within the final 64 KiB. */
async function lastOggPage(reader: Reader, serial: number): Promise<{ granule: number | null; truncation: string | null }> {
  const from = Math.max(0, reader.size - 65_307 - 27);
  const tail = await reader.at(from, reader.size - from);
  let truncation: string | null = null;
  for (let i = tail.lastIndexOf("OggS"); i !== -1; i = i === 0 ? -1 : tail.lastIndexOf("OggS", i - 1)) {
    const page = oggPageAt(tail, i);
    // A page whose header or body runs past the end: the file stops mid-page.
    const cut = page
      ? i + page.headerLength + page.bodyLength > tail.length
      : (tail[i + 4] ?? 0) === 0 && (i + 27 > tail.length || i + 27 + tail[i + 26]! > tail.length);
    if (cut) truncation ??= "the last Ogg page is cut short";
    if (!page || cut) continue;
    if (page.serial === serial && page.granule > 0n) return { granule: Number(page.granule), truncation };
  }
  return { granule: null, truncation };
}
