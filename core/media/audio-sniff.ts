/**
 * Recognises what a file is from its first bytes, whatever its name says: the audio containers we serve, the
 * audio formats we do not, and common non-audio files people drop into music folders (so the error can say
 * "this is a PNG image" rather than "cannot parse").
 */

export type Container = "mpeg" | "aac" | "flac" | "ogg" | "mp4" | "wav" | "aiff";

/** `start`: offset of the content (the first MPEG frame when junk precedes it), relative to the buffer. */
export type Sniffed =
  | { kind: "audio"; container: Container; start: number }
  | { kind: "not_audio"; what: string }
  | { kind: "unsupported"; what: string }
  | { kind: "unknown" };

const latin1 = (bytes: Uint8Array, start: number, end: number) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1", start, end);

/** Non-audio files, described the way a person would name them. */
const NOT_AUDIO: [magic: string, what: string][] = [
  ["\x89PNG\r\n\x1a\n", "a PNG image"],
  ["\xff\xd8\xff", "a JPEG image"],
  ["GIF8", "a GIF image"],
  ["II*\x00", "a TIFF image"],
  ["MM\x00*", "a TIFF image"],
  ["8BPS", "a Photoshop image"],
  ["%PDF-", "a PDF document"],
  ["PK\x03\x04", "a ZIP archive (or an office document)"],
  ["Rar!\x1a\x07", "a RAR archive"],
  ["7z\xbc\xaf\x27\x1c", "a 7-Zip archive"],
  ["\x1f\x8b", "a gzip archive"],
  ["\x7fELF", "a program"],
];

/** Audio we recognise but do not serve: browsers and most Subsonic apps cannot play it as is. */
const UNSUPPORTED_AUDIO: [magic: string, what: string][] = [
  ["0&\xb2\x75\x8e\x66\xcf\x11", "WMA (ASF)"],
  ["MAC ", "Monkey's Audio (APE)"],
  ["wvpk", "WavPack"],
  ["MPCK", "Musepack"],
  ["MP+", "Musepack"],
  ["DSD ", "DSF (DSD audio)"],
  ["FRM8", "DSDIFF (DSD audio)"],
  ["\x1a\x45\xdf\xa3", "Matroska/WebM"],
  ["RF64", "RF64 (64-bit WAV)"],
  ["#!AMR", "AMR"],
  ["MThd", "MIDI"],
  [".snd", "Sun audio (.au)"],
  ["TTA1", "TTA"],
];

/** ISO-BMFF brands that are still images, not audio. */
const IMAGE_BRANDS = new Set(["heic", "heix", "hevc", "mif1", "msf1", "avif", "avis"]);

/** Identifies the content starting at bytes[0] (after any ID3v2 tag). `atEnd`: bytes reach the end of the file. */
export function sniff(bytes: Uint8Array, atEnd: boolean): Sniffed {
  const magic = latin1(bytes, 0, 12);
  if (magic.startsWith("fLaC")) return audio("flac");
  if (magic.startsWith("OggS")) return audio("ogg");
  if (magic.slice(4, 8) === "ftyp") {
    const brand = magic.slice(8, 12).trim();
    return IMAGE_BRANDS.has(brand) ? { kind: "not_audio", what: "an HEIF/AVIF image" } : audio("mp4");
  }
  if (magic.startsWith("RIFF")) return riff(magic.slice(8, 12));
  if (magic.startsWith("FORM") && /^AIF[FC]$/.test(magic.slice(8, 12))) return audio("aiff");
  const unsupported = UNSUPPORTED_AUDIO.find(([signature]) => magic.startsWith(signature));
  if (unsupported) return { kind: "unsupported", what: unsupported[1] };
  const other = NOT_AUDIO.find(([signature]) => magic.startsWith(signature));
  if (other) return { kind: "not_audio", what: other[1] };
  const frames = findMpegFrames(bytes, atEnd);
  if (frames) return { kind: "audio", container: frames.adts ? "aac" : "mpeg", start: frames.offset };
  if (looksLikeText(bytes)) return { kind: "not_audio", what: "a text file" };
  return { kind: "unknown" };
}

function audio(container: Container): Sniffed {
  return { kind: "audio", container, start: 0 };
}

function riff(form: string): Sniffed {
  if (form === "WAVE") return audio("wav");
  if (form === "AVI ") return { kind: "not_audio", what: "an AVI video" };
  if (form === "WEBP") return { kind: "not_audio", what: "a WebP image" };
  return { kind: "unsupported", what: `RIFF/${form.trim() || "unknown"}` };
}

/** UTF-8 (or ASCII) without control characters: a playlist, a .nfo, an HTML error page saved as .mp3, ... */
function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  const allowed = new Set([0x09, 0x0a, 0x0c, 0x0d]); // tab, newline, form feed, carriage return
  for (const byte of bytes) if (byte < 0x20 && !allowed.has(byte)) return false;
  // The buffer may end inside a multi-byte character; allow up to three dangling bytes.
  for (let trim = 0; trim <= 3 && trim < bytes.length; trim++) {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, bytes.length - trim));
      return true;
    } catch {
      // try again without the last byte
    }
  }
  return false;
}

export interface MpegHeader {
  length: number;
  samples: number;
  sampleRate: number;
  /** Version, layer and sample rate: consecutive frames of one stream share them. */
  key: number;
  adts: boolean;
  /** Bytes between the 4-byte header and a Xing/Info tag (the side information). */
  sideInfo: number;
}

const KBPS = {
  v1: [
    [],
    [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  ],
  v2: [
    [],
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  ],
};

const ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** Parses an MPEG audio (layer I-III) or ADTS AAC frame header at bytes[i]; null when it is not one. */
export function mpegHeaderAt(bytes: Uint8Array, i: number): MpegHeader | null {
  if (i + 6 > bytes.length || bytes[i] !== 0xff) return null;
  const b1 = bytes[i + 1]!;
  const b2 = bytes[i + 2]!;
  if ((b1 & 0xf6) === 0xf0) {
    if (i + 7 > bytes.length) return null;
    const length = ((bytes[i + 3]! & 3) << 11) | (bytes[i + 4]! << 3) | (bytes[i + 5]! >> 5);
    const sampleRate = ADTS_RATES[(b2 >> 2) & 0x0f];
    if (length < 7 || !sampleRate) return null;
    const samples = 1024 * ((bytes[i + 6]! & 3) + 1);
    return { length, samples, sampleRate, key: 0x1000 | sampleRate, adts: true, sideInfo: 0 };
  }
  const version = (b1 >> 3) & 3; // 0: MPEG 2.5, 1: reserved, 2: MPEG 2, 3: MPEG 1
  const layer = 4 - ((b1 >> 1) & 3);
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if ((b1 & 0xe0) !== 0xe0 || version === 1 || layer === 4 || bitrateIndex % 15 === 0 || rateIndex === 3) return null;
  const mpeg1 = version === 3;
  const bitrate = (mpeg1 ? KBPS.v1 : KBPS.v2)[layer]![bitrateIndex]! * 1000;
  const sampleRate = [44100, 48000, 32000][rateIndex]! / (mpeg1 ? 1 : version === 2 ? 2 : 4);
  const padding = (b2 >> 1) & 1;
  const length =
    layer === 1
      ? (Math.floor((12 * bitrate) / sampleRate) + padding) * 4
      : Math.floor(((layer === 3 && !mpeg1 ? 72 : 144) * bitrate) / sampleRate) + padding;
  const mono = bytes[i + 3]! >> 6 === 3;
  const sideInfo = mpeg1 ? (mono ? 17 : 32) : mono ? 9 : 17;
  const samples = layer === 1 ? 384 : layer === 3 && !mpeg1 ? 576 : 1152;
  return { length, samples, sampleRate, key: (version << 8) | (layer << 4) | rateIndex, adts: false, sideInfo };
}

/**
 * Finds the first of three consecutive, consistent frames (fewer only when the file ends): one header-shaped
 * pattern turns up by chance in most binary files, three in a row do not.
 */
export function findMpegFrames(bytes: Uint8Array, atEnd: boolean): { offset: number; adts: boolean } | null {
  for (let i = bytes.indexOf(0xff); i !== -1; i = bytes.indexOf(0xff, i + 1)) {
    const first = mpegHeaderAt(bytes, i);
    if (!first) continue;
    let at = i;
    let header: MpegHeader | null = first;
    let count = 0;
    while (header && header.key === first.key && count < 3) {
      count++;
      at += header.length;
      header = mpegHeaderAt(bytes, at);
    }
    if (count === 3 || (atEnd && at === bytes.length)) return { offset: i, adts: first.adts };
  }
  return null;
}

/** The audio byte count an MP3's Xing/Info or VBRI header declares, when it declares one. */
export function declaredMpegBytes(bytes: Uint8Array, frame: number): number | null {
  const header = mpegHeaderAt(bytes, frame);
  if (!header || header.adts) return null;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const xing = frame + 4 + header.sideInfo;
  const tag = latin1(bytes, xing, xing + 4);
  if ((tag === "Xing" || tag === "Info") && xing + 16 <= bytes.length) {
    const flags = view.readUInt32BE(xing + 4);
    if (!(flags & 2)) return null;
    return view.readUInt32BE(xing + 8 + (flags & 1 ? 4 : 0));
  }
  const vbri = frame + 36; // Fraunhofer's VBRI header sits at a fixed offset: tag, version, delay, quality, bytes
  if (latin1(bytes, vbri, vbri + 4) === "VBRI" && vbri + 14 <= bytes.length) return view.readUInt32BE(vbri + 10);
  return null;
}
