/**
 * music-metadata 12 decodes every Vorbis comment of an Ogg or Opus file into a string before it looks at
 * the comment's name, so an embedded cover (METADATA_BLOCK_PICTURE, base64: often a megabyte of text) is
 * decoded as UTF-8 into one large string even when covers are skipped, only to be dropped. Those strings
 * go straight to V8's old generation, and in a realistic import they made the tag-reader thread run a
 * full garbage collection every ~70 files (issue 19). When covers are skipped, this passes over a picture
 * comment by its length, unread; every other comment, and every read that wants covers, goes through
 * music-metadata's own method. Left alone when the package's layout ever changes.
 */
import { getLogger } from "../../config/logging.ts";
import { musicMetadataModule } from "./music-metadata-internals.ts";

const log = getLogger(["polyphony", "media"]);

interface VorbisStreamPrototype {
  options: { skipCovers?: boolean } | undefined;
  parseUserComment(this: VorbisStreamPrototype, pageData: Uint8Array, offset: number): Promise<number>;
}

const PICTURE_KEY = Buffer.from("METADATA_BLOCK_PICTURE=", "latin1");

/** Whether the comment at `offset` (a 32-bit little-endian length, then "NAME=value") is a picture. */
export function isPictureComment(page: Uint8Array, offset: number): boolean {
  const start = offset + 4;
  if (start + PICTURE_KEY.length > page.length) return false;
  for (let i = 0; i < PICTURE_KEY.length; i++) {
    const byte = page[start + i]!;
    // Names are case-insensitive ASCII: lower-case letters are upper-cased, as music-metadata does.
    if ((byte >= 0x61 && byte <= 0x7a ? byte - 0x20 : byte) !== PICTURE_KEY[i]) return false;
  }
  return true;
}

export async function skipUndecodedOggPictures(): Promise<boolean> {
  try {
    const stream = (await musicMetadataModule("ogg/vorbis/VorbisStream.js")).VorbisStream as { prototype: VorbisStreamPrototype } | undefined;
    const original = stream?.prototype.parseUserComment;
    if (typeof original !== "function" || original.length !== 2) return false;
    stream!.prototype.parseUserComment = function (this: VorbisStreamPrototype, page: Uint8Array, offset: number) {
      if (!this.options?.skipCovers || !isPictureComment(page, offset)) return original.call(this, page, offset);
      const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
      return Promise.resolve(4 + view.getUint32(offset, true));
    };
    return true;
  } catch (error) {
    log.debug("Ogg pictures are decoded even when skipped: {error}", { error });
    return false;
  }
}
