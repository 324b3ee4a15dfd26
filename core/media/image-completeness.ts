/**
 * Whether a JPEG or PNG cover is whole, from its structure alone (issue 19). Decoding every cover to a
 * thumbnail to find a damaged one was the costliest part of an import after parsing (~1.1 s of libvips
 * for 2000 tracks: a JPEG's whole entropy-coded data is decoded even when shrunk on load). What that decode
 * refused is what a walk of the file finds:
 * - a JPEG cut short has no end-of-image marker after its first scan (0xFF 0xD9 cannot occur inside
 *   entropy-coded data, where 0xFF is always followed by 0x00 or a restart marker); libjpeg only warns
 *   about damage inside the data, which the decode let through as well;
 * - a PNG's every chunk carries a CRC-32 of its bytes, and a whole file ends with IEND: any damaged or
 *   missing byte shows.
 * Other formats (WebP, GIF, AVIF) are still decoded (artwork.ts).
 */
import { crc32 } from "node:zlib";

/** null when the image is whole, else what is wrong, for the log. */
export function jpegDamage(bytes: Uint8Array): string | null {
  let at = 2; // after SOI (FF D8), which the format sniff checked
  for (;;) {
    if (at + 4 > bytes.length) return "it ends before its image data";
    if (bytes[at] !== 0xff) return `no marker at byte ${at}`;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9) return "it ends before its image data";
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (length < 2) return `a segment of impossible length at byte ${at}`;
    if (marker === 0xda) break; // start of scan: entropy-coded data follows
    at += 2 + length;
  }
  return endOfImageAfter(bytes, at) ? null : "it is cut short (no end-of-image marker)";
}

function endOfImageAfter(bytes: Uint8Array, start: number): boolean {
  const end = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).lastIndexOf(EOI);
  return end > start;
}
const EOI = Buffer.from([0xff, 0xd9]);

/** null when the image is whole, else what is wrong, for the log. */
export function pngDamage(bytes: Uint8Array): string | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8; // after the signature, which the format sniff checked
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const end = at + 8 + length;
    if (end + 4 > bytes.length) return `its ${chunkType(bytes, at)} chunk is cut short`;
    if (crc32(bytes.subarray(at + 4, end)) !== view.getUint32(end)) return `its ${chunkType(bytes, at)} chunk is damaged (CRC mismatch)`;
    if (chunkType(bytes, at) === "IEND") return null;
    at = end + 4;
  }
  return "it is cut short (no IEND chunk)";
}

function chunkType(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(...bytes.subarray(at + 4, at + 8));
}
