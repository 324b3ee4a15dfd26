/**
 * Where a FLAC file's audio really ends, from the frame headers in its last bytes: each names its first sample,
 * so a file cut short shows up as a last frame well before STREAMINFO's total, without decoding anything.
 */

export interface StreamInfo {
  maxBlockSize: number;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** 0 when the encoder did not know (streamed encodes). */
  totalSamples: number;
}

/** The STREAMINFO block body (34 bytes). */
export function parseStreamInfo(body: Buffer): StreamInfo | null {
  if (body.length < 18) return null;
  const packed = body.readBigUInt64BE(10); // sample rate (20) | channels-1 (3) | bits-1 (5) | total samples (36)
  return {
    maxBlockSize: body.readUInt16BE(2),
    sampleRate: Number(packed >> 44n),
    channels: Number((packed >> 41n) & 7n) + 1,
    bitsPerSample: Number((packed >> 36n) & 31n) + 1,
    totalSamples: Number(packed & 0xfffffffffn),
  };
}

interface Frame {
  offset: number;
  firstSample: number;
  blockSize: number;
}

const SAMPLE_RATES = [0, 88200, 176400, 192000, 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000];
const SAMPLE_SIZES = [0, 8, 12, -1, 16, 20, 24, 32];

function crc8(bytes: Uint8Array, end: number, start: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]!;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

/** FLAC's UTF-8-like coding of frame and sample numbers (up to 7 bytes, 36 bits). */
function codedNumber(bytes: Uint8Array, at: number): { value: number; length: number } | null {
  const first = bytes[at];
  if (first === undefined || first === 0xff) return null;
  if (first < 0x80) return { value: first, length: 1 };
  const length = first === 0xfe ? 7 : Math.clz32(~(first << 24)); // leading one bits = byte count
  if (length < 2 || length > 7) return null;
  let value = length === 7 ? 0 : first & (0xff >> (length + 1));
  for (let i = 1; i < length; i++) {
    const byte = bytes[at + i];
    if (byte === undefined || (byte & 0xc0) !== 0x80) return null;
    value = value * 64 + (byte & 0x3f);
  }
  return { value, length };
}

function blockSizeOf(code: number, bytes: Uint8Array, at: number): { size: number; extra: number } | null {
  if (code === 1) return { size: 192, extra: 0 };
  if (code >= 2 && code <= 5) return { size: 576 << (code - 2), extra: 0 };
  if (code === 6 && at < bytes.length) return { size: bytes[at]! + 1, extra: 1 };
  if (code === 7 && at + 1 < bytes.length) return { size: ((bytes[at]! << 8) | bytes[at + 1]!) + 1, extra: 2 };
  if (code >= 8) return { size: 256 << (code - 8), extra: 0 };
  return null;
}

/** A frame header at bytes[i] consistent with STREAMINFO and its own CRC-8; null otherwise. */
function frameAt(bytes: Uint8Array, i: number, info: StreamInfo): Frame | null {
  if (bytes[i] !== 0xff || (bytes[i + 1]! & 0xfe) !== 0xf8 || i + 6 > bytes.length) return null;
  const variable = (bytes[i + 1]! & 1) === 1;
  const blockCode = bytes[i + 2]! >> 4;
  const rateCode = bytes[i + 2]! & 0x0f;
  const channelCode = bytes[i + 3]! >> 4;
  const sizeCode = (bytes[i + 3]! >> 1) & 7;
  if (bytes[i + 3]! & 1 || rateCode === 15) return null;
  if (channelCode > 10 || (channelCode <= 7 ? channelCode + 1 : 2) !== info.channels) return null;
  if (sizeCode !== 0 && SAMPLE_SIZES[sizeCode] !== info.bitsPerSample) return null;
  if (rateCode !== 0 && rateCode < 12 && SAMPLE_RATES[rateCode] !== info.sampleRate) return null;
  const number = codedNumber(bytes, i + 4);
  if (!number) return null;
  let at = i + 4 + number.length;
  const block = blockSizeOf(blockCode, bytes, at);
  if (!block) return null;
  at += block.extra + (rateCode === 12 ? 1 : rateCode >= 13 ? 2 : 0);
  if (at >= bytes.length || crc8(bytes, at, i) !== bytes[at]) return null;
  const firstSample = variable ? number.value : number.value * info.maxBlockSize;
  return { offset: i, firstSample, blockSize: block.size };
}

/**
 * The sample where the audio ends, judged from the last two frame headers in `tail` (two consecutive frames
 * that agree, so a header-shaped accident inside compressed audio cannot fake an early end); null if unsure.
 */
export function flacEndSample(tail: Uint8Array, info: StreamInfo): number | null {
  let later: Frame | null = null;
  for (let i = tail.lastIndexOf(0xff); i >= 0; i = i === 0 ? -1 : tail.lastIndexOf(0xff, i - 1)) {
    const frame = frameAt(tail, i, info);
    if (!frame) continue;
    if (later && frame.firstSample + frame.blockSize === later.firstSample) return later.firstSample + later.blockSize;
    later ??= frame;
  }
  return null;
}
