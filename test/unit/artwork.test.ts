import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, stat, symlink, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type CoverFormat,
  type CoverSize,
  coverFilePath,
  coverSourcePath,
  findFolderCover,
  FolderCoverFinder,
  InvalidImage,
  processCover,
} from "../../core/media/artwork.ts";
import { ensureCoverFile } from "../../core/media/cover-derivatives.ts";
import { NotFound } from "../../core/errors.ts";
import { PNG_SIGNATURE, pngBomb, pngChunk } from "../fixtures/images.ts";
import { sleep } from "../helpers/wait.ts";

const SIZES: CoverSize[] = [64, 256, 600, "original"];
const FORMATS: CoverFormat[] = ["webp", "jpeg"];

let tmp: string;
let covers: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "polyphony-artwork-"));
  covers = path.join(tmp, "covers");
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function image(width: number, height: number, format: "jpeg" | "png" = "jpeg"): Promise<Buffer> {
  const create = { width, height, channels: 3 as const, background: { r: 200, g: 40, b: 90 } };
  return sharp({ create })[format]().toBuffer();
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function dimensionsOf(hash: string, size: CoverSize, format: CoverFormat) {
  const meta = await sharp(await ensureCoverFile(covers, hash, size, format)).metadata();
  return { format: meta.format, width: meta.width, height: meta.height };
}

async function mtimes(hash: string): Promise<number[]> {
  const files = SIZES.flatMap((size) => FORMATS.map((format) => coverFilePath(covers, hash, size, format)));
  return Promise.all([coverSourcePath(covers, hash), ...files].map(async (file) => (await stat(file)).mtimeMs));
}

async function ensureAll(hash: string): Promise<void> {
  for (const size of SIZES) for (const format of FORMATS) await ensureCoverFile(covers, hash, size, format);
}

/** Resolves with the rejection of `promise` (fails the test if it fulfils). */
async function rejection(promise: Promise<unknown>): Promise<InvalidImage> {
  const error = await promise.then(
    () => expect.fail("expected a rejection"),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(InvalidImage);
  return error as InvalidImage;
}

describe("processCover", () => {
  it("stores the source only; each size in WebP and JPEG is made on request, keeping the aspect ratio", async () => {
    const input = await image(1600, 1000);
    const stored = await processCover(input, covers);
    const dir = path.dirname(coverSourcePath(covers, stored.hash));
    expect(await readdir(dir)).toEqual(["source"]);
    expect(stored).toEqual({ hash: sha256(input), width: 1600, height: 1000, sizes: [64, 256, 600, 1200] });
    const expected = { 64: [64, 40], 256: [256, 160], 600: [600, 375], original: [1200, 750] };
    for (const size of SIZES) {
      for (const format of FORMATS) {
        const [width, height] = expected[size];
        expect(await dimensionsOf(stored.hash, size, format)).toEqual({ format, width, height });
      }
    }
    expect(path.relative(covers, dir)).toBe(path.join(stored.hash.slice(0, 2), stored.hash.slice(2, 4), stored.hash));
    expect((await readdir(dir)).sort()).toEqual([...SIZES.flatMap((s) => [`${s}.jpg`, `${s}.webp`]), "source"].sort());
  });

  it("keeps portrait images upright and inside each box", async () => {
    const stored = await processCover(await image(900, 1800, "png"), covers);
    expect(stored).toMatchObject({ width: 900, height: 1800, sizes: [64, 256, 600, 1200] });
    expect(await dimensionsOf(stored.hash, 600, "jpeg")).toMatchObject({ width: 300, height: 600 });
    expect(await dimensionsOf(stored.hash, "original", "webp")).toMatchObject({ width: 600, height: 1200 });
  });

  it("never enlarges a small image", async () => {
    const stored = await processCover(await image(100, 50, "png"), covers);
    expect(stored).toMatchObject({ width: 100, height: 50, sizes: [64, 256, 600, 100] });
    expect(await dimensionsOf(stored.hash, 64, "webp")).toMatchObject({ width: 64, height: 32 });
    for (const size of [256, 600, "original"] as const) {
      expect(await dimensionsOf(stored.hash, size, "jpeg")).toMatchObject({ width: 100, height: 50 });
    }
  });

  it("turns an EXIF-rotated JPEG upright and strips its metadata", async () => {
    // Stored sideways (200x100: red left half, blue right half) with orientation 6 (rotate 90° clockwise),
    // so it shows as 100x200 with red on top.
    const red = await sharp({ create: { width: 100, height: 100, channels: 3, background: "#ff0000" } }).png().toBuffer();
    const input = await sharp({ create: { width: 200, height: 100, channels: 3, background: "#0000ff" } })
      .composite([{ input: red, left: 0, top: 0 }])
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const stored = await processCover(input, covers);
    expect(stored).toMatchObject({ width: 100, height: 200, sizes: [64, 256, 600, 200] });

    const file = await ensureCoverFile(covers, stored.hash, "original", "jpeg");
    const meta = await sharp(file).metadata();
    expect(meta).toMatchObject({ width: 100, height: 200 });
    expect(meta.orientation).toBeUndefined();
    expect(meta.exif).toBeUndefined();
    const { data } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [...data.subarray((y * 100 + x) * 3, (y * 100 + x) * 3 + 3)];
    const [top, bottom] = [pixel(50, 40), pixel(50, 160)];
    expect(top[0]).toBeGreaterThan(200);
    expect(top[2]).toBeLessThan(60);
    expect(bottom[0]).toBeLessThan(60);
    expect(bottom[2]).toBeGreaterThan(200);
  });

  it("flattens transparency onto white for JPEG and keeps it in WebP", async () => {
    const input = await sharp({ create: { width: 50, height: 50, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png()
      .toBuffer();
    const stored = await processCover(input, covers);
    const jpeg = await sharp(await ensureCoverFile(covers, stored.hash, 64, "jpeg")).raw().toBuffer();
    expect([...jpeg.subarray(0, 3)]).toEqual([255, 255, 255]);
    expect((await sharp(await ensureCoverFile(covers, stored.hash, 64, "webp")).metadata()).hasAlpha).toBe(true);
  });

  it("does no work the second time", async () => {
    const input = await image(700, 700);
    const first = await processCover(input, covers);
    await ensureAll(first.hash);
    const before = await mtimes(first.hash);
    await sleep(20); // so a rewrite would show in the mtimes
    expect(await processCover(input, covers)).toEqual(first);
    await ensureAll(first.hash);
    expect(await mtimes(first.hash)).toEqual(before);
  });

  it("makes a lost size again on its next request; without a source, the cover is not found", async () => {
    const input = await image(300, 300);
    const { hash } = await processCover(input, covers);
    await ensureAll(hash);
    await unlink(coverFilePath(covers, hash, 256, "webp"));
    expect(await dimensionsOf(hash, 256, "webp")).toMatchObject({ width: 256, height: 256 });
    await unlink(coverSourcePath(covers, hash));
    await unlink(coverFilePath(covers, hash, 600, "jpeg"));
    await expect(ensureCoverFile(covers, hash, 600, "jpeg")).rejects.toBeInstanceOf(NotFound);
    await processCover(input, covers); // the same cover imported again brings its source back
    expect(await dimensionsOf(hash, 600, "jpeg")).toMatchObject({ width: 300, height: 300 });
  });

  it("survives concurrent calls for the same bytes, and concurrent first requests of each size", async () => {
    const input = await image(1300, 900);
    const results = await Promise.all(Array.from({ length: 6 }, () => processCover(input, covers)));
    for (const result of results) expect(result).toEqual(results[0]);
    const hash = sha256(input);
    const requests = SIZES.flatMap((size) => FORMATS.flatMap((format) => Array.from({ length: 4 }, () => ensureCoverFile(covers, hash, size, format))));
    await Promise.all(requests);
    for (const size of SIZES) {
      for (const format of FORMATS) {
        expect((await dimensionsOf(hash, size, format)).format).toBe(format);
      }
    }
    // No temp files left beside the cover, nor temp dirs beside its folder.
    const dir = path.dirname(coverSourcePath(covers, hash));
    expect((await readdir(dir)).filter((name) => name.startsWith("."))).toEqual([]);
    expect(await readdir(path.dirname(dir))).toEqual([hash]);
  });

  it("refuses a decompression bomb from its header", async () => {
    const bomb = await pngBomb(60000, 60000);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const error = await rejection(processCover(bomb, covers));
    expect(error.code).toBe("invalid_image");
    expect(error.message).toBe("The cover image is too large (60000x60000 pixels; the limit is 50 megapixels)");
    expect(error.details).toEqual({ width: 60000, height: 60000, limitPixels: 50_000_000 });
    await expect(stat(covers)).rejects.toThrow(/ENOENT/);
  });

  it("accepts a PNG built like the bomb, but small (the bomb is a valid image)", async () => {
    const stored = await processCover(await pngBomb(3000, 3000), covers);
    expect(stored).toMatchObject({ width: 3000, height: 3000, sizes: [64, 256, 600, 1200] });
  });

  it("refuses files over 30 MB before decoding", async () => {
    const big = Buffer.alloc(31 * 1024 * 1024);
    big.set([0xff, 0xd8, 0xff]);
    const error = await rejection(processCover(big, covers));
    expect(error.code).toBe("invalid_image");
    expect(error.message).toBe("The cover image file is too big (31.0 MB; the limit is 30 MB)");
  });

  it("refuses bytes that are not an image we read", async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    const tiff = await sharp({ create: { width: 10, height: 10, channels: 3, background: "#fff" } }).tiff().toBuffer();
    for (const bytes of [Buffer.from("not a picture at all"), new Uint8Array(0), svg, tiff]) {
      const error = await rejection(processCover(bytes, covers));
      expect(error.code).toBe("invalid_image");
      expect(error.message).toBe("The cover is not a readable image (use a JPEG, PNG, WebP, GIF or AVIF file)");
    }
  });

  it("keeps a PNG whole by its structure yet undecodable, and renders what can be decoded of it on request", async () => {
    // Chunks with good CRCs around data that is no image: only a decode tells, and that is on request.
    const header = Buffer.alloc(13);
    header.writeUInt32BE(300, 0);
    header.writeUInt32BE(200, 4);
    header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB
    const png = Buffer.concat([PNG_SIGNATURE, pngChunk("IHDR", header), pngChunk("IDAT", Buffer.from("no zlib here")), pngChunk("IEND", Buffer.alloc(0))]);
    const stored = await processCover(png, covers);
    expect(stored).toMatchObject({ width: 300, height: 200 });
    // As the decode at import let through damage inside a JPEG's data, and as any client shows such an image.
    const meta = await sharp(await ensureCoverFile(covers, stored.hash, 64, "jpeg")).metadata();
    expect(meta).toMatchObject({ format: "jpeg", width: 64, height: 43 });
  });

  it("answers no cover, not an error, for a stored source no decoder reads", async () => {
    const hash = "cd".repeat(32);
    await mkdir(path.dirname(coverSourcePath(covers, hash)), { recursive: true });
    await writeFile(coverSourcePath(covers, hash), "not an image, put there by hand");
    await expect(ensureCoverFile(covers, hash, 256, "webp")).rejects.toBeInstanceOf(NotFound);
  });

  it("refuses a truncated image and leaves nothing behind", async () => {
    const input = await image(400, 400);
    const error = await rejection(processCover(input.subarray(0, input.length / 2), covers));
    expect(error.message).toBe("The cover image is damaged or truncated and could not be read");
    const hash = sha256(input.subarray(0, input.length / 2));
    await expect(stat(path.dirname(coverSourcePath(covers, hash)))).rejects.toThrow(/ENOENT/);
  });
});

describe("coverFilePath", () => {
  const hash = "ab".repeat(32);

  it("builds the path of a stored file", () => {
    expect(coverFilePath("/covers", hash, 256, "jpeg")).toBe(`/covers/ab/ab/${hash}/256.jpg`);
    expect(coverFilePath("/covers", hash, "original", "webp")).toBe(`/covers/ab/ab/${hash}/original.webp`);
  });

  it("refuses anything that is not a cover id, size or format", () => {
    const bad = ["../etc/passwd", "../../".repeat(11), "zz".repeat(32), "AB".repeat(32), "ab".repeat(31), `${hash}/..`];
    for (const value of bad) expect(() => coverFilePath("/covers", value, 64, "webp")).toThrow(NotFound);
    expect(() => coverFilePath("/covers", hash, 65 as CoverSize, "webp")).toThrow(NotFound);
    expect(() => coverFilePath("/covers", hash, 64, "png" as CoverFormat)).toThrow(NotFound);
  });
});

describe("findFolderCover", () => {
  async function album(...names: string[]): Promise<string> {
    const dir = path.join(tmp, "album");
    await mkdir(dir, { recursive: true });
    for (const name of names) await writeFile(path.join(dir, name), "x");
    return dir;
  }

  it("prefers cover > folder > front, then .jpg > .jpeg > .png > .webp, whatever the case", async () => {
    const dir = await album("01 Song.flac", "front.jpg", "Folder.JPG", "COVER.webp", "Cover.Png", "cover.gif");
    const track = path.join(dir, "01 Song.flac");
    expect(await findFolderCover(track)).toBe(path.join(dir, "Cover.Png"));
    await unlink(path.join(dir, "Cover.Png"));
    expect(await findFolderCover(track)).toBe(path.join(dir, "COVER.webp"));
    await unlink(path.join(dir, "COVER.webp"));
    expect(await findFolderCover(track)).toBe(path.join(dir, "Folder.JPG"));
    await unlink(path.join(dir, "Folder.JPG"));
    expect(await findFolderCover(track)).toBe(path.join(dir, "front.jpg"));
  });

  it("breaks ties between case variants by name", async () => {
    const dir = await album("cover.jpg", "Cover.jpg", "COVER.JPG");
    expect(await findFolderCover(path.join(dir, "a.mp3"))).toBe(path.join(dir, "COVER.JPG"));
  });

  it("ignores look-alikes and directories, follows symlinks to files", async () => {
    const dir = await album("mycover.jpg", "cover.jpg.txt", "cover", "front.bmp", "art.png");
    await mkdir(path.join(dir, "cover.jpg"));
    expect(await findFolderCover(path.join(dir, "a.mp3"))).toBeNull();
    await symlink(path.join(dir, "art.png"), path.join(dir, "folder.png"));
    await symlink(path.join(dir, "missing.png"), path.join(dir, "cover.png"));
    expect(await findFolderCover(path.join(dir, "a.mp3"))).toBe(path.join(dir, "folder.png"));
  });

  it("passes over a link that leads out of the folder, for the next cover inside", async () => {
    const dir = await album("a.mp3", "front.jpg");
    await writeFile(path.join(tmp, "elsewhere.jpg"), "x");
    await symlink(path.join(tmp, "elsewhere.jpg"), path.join(dir, "cover.jpg"));
    expect(await findFolderCover(path.join(dir, "a.mp3"))).toBe(path.join(dir, "front.jpg"));
    expect(await findFolderCover(path.join(dir, "a.mp3"), tmp)).toBe(path.join(dir, "cover.jpg"));
  });

  it("returns null when there is no cover or no folder", async () => {
    const dir = await album("01.flac");
    expect(await findFolderCover(path.join(dir, "01.flac"))).toBeNull();
    expect(await findFolderCover(path.join(tmp, "nowhere", "01.flac"))).toBeNull();
  });

  it("reads each folder once per FolderCoverFinder", async () => {
    const dir = await album("front.png");
    const finder = new FolderCoverFinder();
    expect(await finder.find(path.join(dir, "01.flac"))).toBe(path.join(dir, "front.png"));
    await writeFile(path.join(dir, "cover.jpg"), "x");
    // Cached: the new, better cover is not seen by this finder, but a new one sees it.
    expect(await finder.find(path.join(dir, "02.flac"))).toBe(path.join(dir, "front.png"));
    expect(await new FolderCoverFinder().find(path.join(dir, "02.flac"))).toBe(path.join(dir, "cover.jpg"));
  });
});
