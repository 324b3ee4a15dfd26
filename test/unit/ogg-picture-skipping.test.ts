import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { musicMetadataModule } from "../../core/media/music-metadata-internals.ts";
import { isPictureComment } from "../../core/media/ogg-picture-skipping.ts";
import { readTags } from "../../core/media/tag-reader.ts"; // applies the patch on load
import { makeAudio, makeCoverImage } from "../fixtures/audio.ts";

/** A comment list entry: its 32-bit little-endian length, then the text. */
function comment(text: string): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(Buffer.byteLength(text));
  return Buffer.concat([length, Buffer.from(text)]);
}

describe("an Ogg picture comment", () => {
  it("is told by its name, in any case, and nothing else is", () => {
    expect(isPictureComment(comment("METADATA_BLOCK_PICTURE=AAAA"), 0)).toBe(true);
    expect(isPictureComment(comment("metadata_block_picture=AAAA"), 0)).toBe(true);
    const two = Buffer.concat([comment("TITLE=x"), comment("Metadata_Block_Picture=AAAA")]);
    expect(isPictureComment(two, 0)).toBe(false);
    expect(isPictureComment(two, 11)).toBe(true);
    expect(isPictureComment(comment("METADATA_BLOCK_PICTURES=AAAA"), 0)).toBe(false);
    expect(isPictureComment(comment("METADATA_BLOCK_PICTUR"), 0)).toBe(false); // shorter than the name
    expect(isPictureComment(comment("COVERART=AAAA"), 0)).toBe(false);
  });
});

describe("music-metadata's Vorbis comment reader, once the tag reader is loaded", () => {
  it("passes over a picture comment unread when covers are skipped, and reads every other one", async () => {
    const VorbisStream = (await musicMetadataModule("ogg/vorbis/VorbisStream.js")).VorbisStream as {
      prototype: { parseUserComment(this: unknown, page: Uint8Array, offset: number): Promise<number> };
    };
    const page = Buffer.concat([comment(`METADATA_BLOCK_PICTURE=${"A".repeat(4000)}`), comment("TITLE=Kept")]);
    const added: string[] = [];
    const stream = (skipCovers: boolean) => ({ options: { skipCovers }, addTag: async (id: string) => void added.push(id) });
    expect(await VorbisStream.prototype.parseUserComment.call(stream(true), page, 0)).toBe(4 + 23 + 4000);
    expect(added).toEqual([]); // not even handed over to be dropped
    expect(await VorbisStream.prototype.parseUserComment.call(stream(true), page, 4027)).toBe(4 + 10);
    expect(added).toEqual(["TITLE"]);
    expect(await VorbisStream.prototype.parseUserComment.call(stream(false), page, 0)).toBe(4027);
    expect(added).toEqual(["TITLE", "METADATA_BLOCK_PICTURE"]);
  });
});

describe("reading an Ogg or Opus file with an embedded cover", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "ogg-pictures-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("passes over the picture unread when pictures are skipped, and reads the same tags either way", async () => {
    const cover = await makeCoverImage(700, 700, "jpeg"); // a real cover's size: ~200 kB, ~270 kB of base64
    for (const format of ["ogg", "opus"] as const) {
      const file = await makeAudio(dir, {
        name: `with cover ${format}`,
        format,
        cover,
        tags: { TITLE: "After the picture", ARTIST: "Somebody", ALBUM: "Covered", TRACKNUMBER: "3" },
      });
      const skipped = await readTags(file, { skipPictures: true });
      const read = await readTags(file, { skipPictures: false });
      expect(skipped.picture).toBeNull();
      expect(Buffer.from(read.picture!.data).equals(cover)).toBe(true);
      expect({ ...skipped, picture: null }).toEqual({ ...read, picture: null });
      expect(skipped).toMatchObject({ title: "After the picture", album: "Covered", trackNumber: 3 });
    }
  });
});
