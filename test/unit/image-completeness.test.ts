import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { jpegDamage, pngDamage } from "../../core/media/image-completeness.ts";
import { PNG_SIGNATURE, pngChunk } from "../fixtures/images.ts";

/** A noisy image (so its data is not trivially small), as a real cover's would be. */
function noisy(width: number, height: number): ReturnType<typeof sharp> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919) % 251;
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

/** An APP1 segment whose payload holds an end-of-image pair, as an EXIF thumbnail does. */
function withThumbnailMarker(jpeg: Buffer): Buffer {
  const payload = Buffer.from([...Buffer.from("Exif\0\0"), 0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
  const segment = Buffer.concat([Buffer.from([0xff, 0xe1, 0, payload.length + 2]), payload]);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}


describe("a JPEG is whole", () => {
  it("when it ends with its end-of-image marker, trailing bytes or not, baseline or progressive", async () => {
    for (const jpeg of [await noisy(300, 200).jpeg().toBuffer(), await noisy(300, 200).jpeg({ progressive: true }).toBuffer()]) {
      expect(jpegDamage(jpeg)).toBeNull();
      expect(jpegDamage(Buffer.concat([jpeg, Buffer.from("album-7")]))).toBeNull();
      expect(jpegDamage(withThumbnailMarker(jpeg))).toBeNull();
    }
  });

  it("not when cut short anywhere, even with an end-of-image pair in an EXIF thumbnail before its data", async () => {
    for (const jpeg of [await noisy(300, 200).jpeg().toBuffer(), await noisy(300, 200).jpeg({ progressive: true }).toBuffer()]) {
      for (const cut of [3, 20, 200, Math.floor(jpeg.length / 2), jpeg.length - 1]) {
        expect(jpegDamage(jpeg.subarray(0, cut)), `cut at ${cut} of ${jpeg.length}`).not.toBeNull();
        const thumbnailed = withThumbnailMarker(jpeg);
        expect(jpegDamage(thumbnailed.subarray(0, thumbnailed.length - jpeg.length + cut))).not.toBeNull();
      }
    }
    expect(jpegDamage(Buffer.from([0xff, 0xd8, 0x00, 0x00, 0x00, 0x00]))).toBe("no marker at byte 2");
  });
});

describe("a PNG is whole", () => {
  it("when every chunk's CRC matches and it ends with IEND", async () => {
    expect(pngDamage(await noisy(300, 200).png().toBuffer())).toBeNull();
  });

  it("not when cut short, or when any byte of a chunk is damaged", async () => {
    const png = await noisy(300, 200).png().toBuffer();
    for (const cut of [8, 20, 40, Math.floor(png.length / 2), png.length - 1]) {
      expect(pngDamage(png.subarray(0, cut)), `cut at ${cut} of ${png.length}`).not.toBeNull();
    }
    const damaged = Buffer.from(png);
    const middle = Math.floor(png.length / 2);
    damaged[middle] = damaged[middle]! ^ 0x01;
    expect(pngDamage(damaged)).toMatch(/IDAT chunk is damaged \(CRC mismatch\)/);
    // Its chunks in order, then IEND: whole, whatever the data says (a decode would find the rest).
    expect(pngDamage(Buffer.concat([PNG_SIGNATURE, pngChunk("IHDR", Buffer.alloc(13)), pngChunk("IEND", Buffer.alloc(0))]))).toBeNull();
  });
});
