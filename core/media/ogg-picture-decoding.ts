/**
 * music-metadata 12 decodes an Ogg/Opus file's embedded picture (base64 in METADATA_BLOCK_PICTURE)
 * with `Uint8Array.from(atob(s), c => c.charCodeAt(0))`: a callback a byte, ~50 ms for a 300 kB cover,
 * and the largest single cost of a realistic import's profile (7.6 s of CPU for 2000 files, issue 19).
 * Node decodes base64 natively; this swaps the one function for that, on the very module music-metadata
 * loaded (same file URL, so the same class). Checked against the original on a sample at load time, and
 * left alone when the package's layout ever changes.
 */
import { getLogger } from "../../config/logging.ts";
import { musicMetadataModule } from "./music-metadata-internals.ts";

const log = getLogger(["polyphony", "media"]);

interface PictureTokenClass {
  fromBase64(base64: string): unknown;
  fromBuffer(buffer: Uint8Array): unknown;
}

export async function useNativeOggPictureDecoding(): Promise<boolean> {
  try {
    const token = (await musicMetadataModule("ogg/vorbis/Vorbis.js")).VorbisPictureToken as PictureTokenClass | undefined;
    if (typeof token?.fromBase64 !== "function" || typeof token.fromBuffer !== "function") return false;
    const original = token.fromBase64.bind(token);
    const native = (base64: string) => {
      const bytes = Buffer.from(base64, "base64");
      return token.fromBuffer(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    };
    const sample = samplePicture();
    if (describe(original(sample)) !== describe(native(sample))) return false;
    token.fromBase64 = native;
    return true;
  } catch (error) {
    log.debug("Ogg pictures decode the slow way: {error}", { error });
    return false;
  }
}

function describe(picture: unknown): string {
  return JSON.stringify(picture, (_key, value: unknown) => (value instanceof Uint8Array ? [value.constructor.name, ...value] : value));
}

/** A METADATA_BLOCK_PICTURE: type 3, "image/png", no description, 1x1, 24 bits, 4 bytes of data. */
function samplePicture(): string {
  const mime = Buffer.from("image/png");
  const fields = [3, mime.length];
  const head = Buffer.alloc(8);
  fields.forEach((value, i) => head.writeUInt32BE(value, i * 4));
  const tail = Buffer.alloc(24);
  [0, 1, 1, 24, 0, 4].forEach((value, i) => tail.writeUInt32BE(value, i * 4));
  return Buffer.concat([head, mime, tail, Buffer.from([1, 2, 3, 4])]).toString("base64");
}
