import { mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Invalid } from "../../core/errors.ts";
import { readTags, UnreadableAudio } from "../../core/media/tag-reader.ts";
import { makeAudio, makeCoverImage, makeVideoClip, type AudioFormat } from "../fixtures/audio.ts";
import { systemProgram } from "../helpers/system-programs.ts";

const ffmpeg = systemProgram("ffmpeg");

const ID = {
  alice: "0b7f9b7e-3c1a-4c8e-9d56-4b3c8f6b2a01",
  bob: "1c8a0c8f-4d2b-4d9f-8e67-5c4d9a7c3b02",
  recording: "2d9b1d90-5e3c-4eaa-9f78-6d5eab8d4c03",
  track: "3eac2ea1-6f4d-4fbb-a089-7e6fbc9e5d04",
  release: "4fbd3fb2-7a5e-4acc-b19a-8f7acdaf6e05",
  releaseGroup: "5ace4ac3-8b6f-4bdd-c2ab-9a8bdeba7f06",
};

/** Every tag we read, as taggers write them: NFD and stray spaces included, to be normalised. */
const FULL_TAGS = {
  TITLE: "  Cafe\u0301 del Mar ",
  ARTIST: "Alice feat. Bob",
  ARTISTS: ["Alice", "Bob"],
  MUSICBRAINZ_ARTISTID: [ID.alice, ID.bob],
  ALBUMARTIST: "Alice",
  MUSICBRAINZ_ALBUMARTISTID: ID.alice,
  ALBUM: "Du\u0308nen",
  TRACKNUMBER: "3",
  TRACKTOTAL: "12",
  DISCNUMBER: "1",
  DISCTOTAL: "2",
  DATE: "2021-05-04",
  GENRE: ["Electronic", "Ambient"],
  MUSICBRAINZ_TRACKID: ID.recording,
  MUSICBRAINZ_RELEASETRACKID: ID.track,
  MUSICBRAINZ_ALBUMID: ID.release,
  MUSICBRAINZ_RELEASEGROUPID: ID.releaseGroup,
  COMPILATION: "1",
  REPLAYGAIN_TRACK_GAIN: "-6.50 dB",
  REPLAYGAIN_TRACK_PEAK: "0.950000",
  REPLAYGAIN_ALBUM_GAIN: "-7.25 dB",
  REPLAYGAIN_ALBUM_PEAK: "0.990000",
  LYRICS: "First line\nSecond line",
};

interface Expected {
  mimeType: string;
  codec: string;
  lossless: boolean;
  sampleRate: number;
  bitDepth: number | null;
  /** [min, max]: encoders and headers vary slightly. */
  bitrate: [number, number];
  cover: "png" | "jpeg";
}

/** What each format must report. FLAC must come out smaller than PCM; Opus decodes at 48 kHz whatever it was fed. */
const FORMATS: Record<AudioFormat, Expected> = {
  mp3: { mimeType: "audio/mpeg", codec: "MPEG 1 Layer 3", lossless: false, sampleRate: 44100, bitDepth: null, bitrate: [64e3, 64e3], cover: "jpeg" },
  flac: { mimeType: "audio/flac", codec: "FLAC", lossless: true, sampleRate: 44100, bitDepth: 16, bitrate: [20e3, 1411199], cover: "png" },
  ogg: { mimeType: "audio/ogg", codec: "Vorbis I", lossless: false, sampleRate: 44100, bitDepth: null, bitrate: [64e3, 64e3], cover: "jpeg" },
  opus: { mimeType: "audio/ogg", codec: "Opus", lossless: false, sampleRate: 48000, bitDepth: null, bitrate: [16e3, 48e3], cover: "png" },
  m4a: { mimeType: "audio/mp4", codec: "AAC", lossless: false, sampleRate: 44100, bitDepth: null, bitrate: [56e3, 72e3], cover: "jpeg" },
  wav: { mimeType: "audio/wav", codec: "PCM", lossless: true, sampleRate: 44100, bitDepth: 16, bitrate: [1411200, 1411200], cover: "png" },
};
const ALL_FORMATS = Object.keys(FORMATS) as AudioFormat[];

let dir: string;
const covers: Record<"png" | "jpeg", Buffer> = {} as never;
const files: Record<string, string> = {};

/** Bytes that look like nothing: a fixed pseudo-random sequence, so the test cannot flake. */
function noise(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = 0x2545f491;
  for (let i = 0; i < length; i++) bytes[i] = (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24;
  return bytes;
}

async function makeFixtures(): Promise<void> {
  covers.png = await makeCoverImage(32, 32, "png");
  covers.jpeg = await makeCoverImage(40, 30, "jpeg");
  const make = async (key: string, spec: Parameters<typeof makeAudio>[1]) => (files[key] = await makeAudio(dir, spec));
  await Promise.all([
    ...ALL_FORMATS.map((format) =>
      make(format, { name: `full-${format}`, format, tags: FULL_TAGS, cover: covers[FORMATS[format].cover] }),
    ),
    make("featuring", {
      name: "featuring",
      format: "flac",
      tags: {
        ARTIST: "Simon & Garfunkel ft. Bob and Alice",
        MUSICBRAINZ_ARTISTID: [ID.alice, ID.bob],
        ALBUMARTIST: "DJ Shadow (Featuring Carol)",
        MUSICBRAINZ_ALBUMARTISTID: ID.alice,
      },
    }),
    make("various", { name: "various", format: "ogg", tags: { ARTIST: "Soft Cell feat Marc", ALBUMARTIST: "Various Artists" } }),
    make("loose", {
      name: "loose",
      format: "opus",
      tags: {
        ...{ TITLE: "   ", ARTIST: ["Alice", "Bob"], GENRE: "Rock; Pop / rock\u0000Jazz", DATE: "2019/3/7" },
        ...{ TRACKNUMBER: "5/9", R128_TRACK_GAIN: "-512" },
      },
    }),
    // VBR without a Xing header: nothing states the duration, the frames must be counted.
    make("vbr", { name: "vbr", format: "mp3", ffmpegArgs: ["-q:a", "0", "-write_xing", "0"] }),
    make("id3v23", {
      name: "id3v23",
      format: "mp3",
      id3v2Version: 3,
      backCover: covers.png,
      cover: covers.jpeg,
      tags: {
        ARTIST: "AC/DC",
        ALBUMARTIST: ["Alice", "Bob"],
        MUSICBRAINZ_ALBUMARTISTID: [ID.alice, ID.bob],
        GENRE: ["Hard Rock", "Rock"],
        DATE: "1980-07-25",
        LYRICS: "[00:01.00]Hello\n[00:02.50]again",
      },
    }),
  ]);
  await mkdir(path.join(dir, "sub"));
  // Odd Unicode and dots in the name; the path even walks through "sub/..": the reader must take it as is.
  const odd = "..\u202eodd\u00a0☃ e\u0301 [1] ..";
  const oddFile = await makeAudio(dir, { name: odd, format: "mp3", tags: { TITLE: "Odd" } });
  files.odd = `${dir}/sub/../${path.basename(oddFile)}`;
  await writeFile(path.join(dir, `${odd}.lrc`), "\uFEFF[ar:Alice]\r\n[00:01.20]Sidecar line\r\n");
  await writeFile(path.join(dir, "full-m4a.lrc"), "[00:00.00]not used: embedded lyrics win");
}

describe.skipIf(!ffmpeg)("readTags", () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "polyphony-tags-"));
    await makeFixtures();
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(ALL_FORMATS)("reads every tag and the format of a %s file", async (format) => {
    const expected = FORMATS[format];
    const tags = await readTags(files[format]!);
    expect(tags.title).toBe("Café del Mar");
    expect(tags.title).toBe("Caf\u00e9 del Mar"); // NFC: one code point for é
    expect(tags.artists).toEqual([
      { name: "Alice", mbid: ID.alice, joinPhrase: " feat. " },
      { name: "Bob", mbid: ID.bob, joinPhrase: "" },
    ]);
    expect(tags.albumArtists).toEqual([{ name: "Alice", mbid: ID.alice, joinPhrase: "" }]);
    expect(tags.album).toBe("D\u00fcnen");
    expect(tags.trackNumber).toBe(3);
    expect(tags.trackTotal).toBe(12);
    expect(tags.discNumber).toBe(1);
    expect(tags.discTotal).toBe(2);
    expect(tags.year).toBe(2021);
    expect(tags.date).toBe("2021-05-04");
    expect(tags.genres).toEqual(["Electronic", "Ambient"]);
    expect(tags.mbids).toEqual({ recording: ID.recording, track: ID.track, release: ID.release, releaseGroup: ID.releaseGroup });
    expect(tags.compilation).toBe(true);
    expect(tags.durationSeconds).toBeCloseTo(1.5, 1);
    expect(tags.bitrate).toBeGreaterThanOrEqual(expected.bitrate[0]);
    expect(tags.bitrate).toBeLessThanOrEqual(expected.bitrate[1]);
    expect(tags.sampleRate).toBe(expected.sampleRate);
    expect(tags.bitDepth).toBe(expected.bitDepth);
    expect(tags.channels).toBe(2);
    expect(tags.codec).toBe(expected.codec);
    expect(tags.mimeType).toBe(expected.mimeType);
    expect(tags.lossless).toBe(expected.lossless);
    expect(tags.replayGain).toEqual({ trackGain: -6.5, trackPeak: 0.95, albumGain: -7.25, albumPeak: 0.99 });
    expect(tags.lyrics).toEqual({ text: "First line\nSecond line", synced: false });
    expect(tags.picture?.format).toBe(`image/${expected.cover}`);
    expect(Buffer.from(tags.picture!.data).equals(covers[expected.cover])).toBe(true);
  });

  it("splits a display-only credit on feat./ft./featuring, never on &, and or a word containing ft", async () => {
    const tags = await readTags(files.featuring!);
    expect(tags.artists).toEqual([
      { name: "Simon & Garfunkel", mbid: ID.alice, joinPhrase: " ft. " },
      { name: "Bob and Alice", mbid: ID.bob, joinPhrase: "" },
    ]);
    // "(Featuring Carol)" loses its brackets; one id for two credits cannot be attributed, so none is.
    expect(tags.albumArtists).toEqual([
      { name: "DJ Shadow", mbid: null, joinPhrase: " Featuring " },
      { name: "Carol", mbid: null, joinPhrase: "" },
    ]);
    const various = await readTags(files.various!);
    expect(various.artists.map((a) => [a.name, a.joinPhrase])).toEqual([["Soft Cell", " feat "], ["Marc", ""]]);
    expect(various.albumArtists).toEqual([{ name: "Various Artists", mbid: null, joinPhrase: "" }]);
    expect(various.compilation).toBe(true);
  });

  it("normalises loose tags: blank title, repeated ARTIST, one genre string, slashed date and track", async () => {
    const tags = await readTags(files.loose!);
    expect(tags.title).toBeNull();
    expect(tags.artists).toEqual([
      { name: "Alice", mbid: null, joinPhrase: " & " },
      { name: "Bob", mbid: null, joinPhrase: "" },
    ]);
    expect(tags.albumArtists).toEqual([]);
    // Split on ";" (and multi-value nulls), not "/": GENRE_SEPARATORS can add it.
    expect(tags.genres).toEqual(["Rock", "Pop / rock", "Jazz"]);
    expect((await readTags(files.loose!, { genreSeparators: ";/" })).genres).toEqual(["Rock", "Pop", "Jazz"]);
    expect(tags.date).toBe("2019-03-07");
    expect(tags.year).toBe(2019);
    expect(tags.trackNumber).toBe(5);
    expect(tags.trackTotal).toBe(9);
    expect(tags.compilation).toBe(false);
    expect(tags.lyrics).toBeNull();
    expect(tags.picture).toBeNull();
    // Opus taggers write R128 gain (Q7.8 dB, relative to -23 LUFS): -2 dB there is +3 dB in ReplayGain terms.
    expect(tags.replayGain).toEqual({ trackGain: 3, trackPeak: null, albumGain: null, albumPeak: null });
  });

  it("counts the frames of a VBR MP3 without a Xing header for its duration and average bitrate", async () => {
    const tags = await readTags(files.vbr!);
    expect(tags.durationSeconds).toBeCloseTo(1.5, 1);
    expect(tags.bitrate).toBeGreaterThan(32_000);
    expect(tags.bitrate).toBeLessThan(320_000);
    expect(tags.codec).toBe("MPEG 1 Layer 3");
  });

  it("reads ID3v2.3: keeps AC/DC whole, splits A/B only when ids prove it, prefers the front cover", async () => {
    const tags = await readTags(files.id3v23!);
    expect(tags.artists).toEqual([{ name: "AC/DC", mbid: null, joinPhrase: "" }]);
    expect(tags.albumArtists).toEqual([
      { name: "Alice", mbid: ID.alice, joinPhrase: "/" },
      { name: "Bob", mbid: ID.bob, joinPhrase: "" },
    ]);
    // Picard joins several ID3v2.3 genres with "/", like "Singer/Songwriter" spells one: one genre unless configured.
    expect(tags.genres).toEqual(["Hard Rock/Rock"]);
    expect((await readTags(files.id3v23!, { genreSeparators: ";/" })).genres).toEqual(["Hard Rock", "Rock"]);
    expect(tags.year).toBe(1980);
    expect(tags.date).toBe("1980");
    expect(tags.lyrics).toEqual({ text: "[00:01.00]Hello\n[00:02.50]again", synced: true });
    expect(tags.picture?.format).toBe("image/jpeg");
    expect(Buffer.from(tags.picture!.data).equals(covers.jpeg)).toBe(true);
  });

  it("reads lyrics from a .lrc beside the file, whatever the file is called; embedded lyrics win", async () => {
    const odd = await readTags(files.odd!);
    expect(odd.title).toBe("Odd");
    expect(odd.lyrics).toEqual({ text: "[ar:Alice]\n[00:01.20]Sidecar line", synced: true });
    const embedded = await readTags(files.m4a!);
    expect(embedded.lyrics).toEqual({ text: "First line\nSecond line", synced: false });
  });

  it("reads the same from bytes already in memory as from the file", async () => {
    for (const file of Object.values(files)) {
      expect([file, await readTags(file, { bytes: await readFile(file) })]).toEqual([file, await readTags(file)]);
    }
  });
});

async function rejection(file: string): Promise<UnreadableAudio> {
  const error = await readTags(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnreadableAudio);
  expect(error).toBeInstanceOf(Invalid);
  return error as UnreadableAudio;
}

describe("readTags on files that are not good audio", () => {
  let badDir: string;
  const bad = (name: string) => path.join(badDir, name);

  beforeAll(async () => {
    badDir = await mkdtemp(path.join(os.tmpdir(), "polyphony-bad-tags-"));
    await writeFile(bad("empty.mp3"), "");
    await writeFile(bad("image.mp3"), await makeCoverImage(8, 8, "png"));
    await writeFile(bad("notes.flac"), "Track list:\n1. Intro\n2. Outro — fin\n");
    await writeFile(bad("garbage.mp3"), noise(100_000));
    await writeFile(bad("mystery.xyz"), noise(5_000));
    await writeFile(bad("song.mp3"), Buffer.concat([Buffer.from("0&\xb2\x75\x8e\x66\xcf\x11\xa6\xd9", "latin1"), noise(2_000)]));
    await mkdir(bad("folder.mp3"));
  });
  afterAll(async () => {
    if (badDir) await rm(badDir, { recursive: true, force: true });
  });

  it.each([
    ["empty.mp3", "empty_file", "The file is empty (0 bytes); copy or upload it again"],
    ["image.mp3", "not_audio", "This is not an audio file: it looks like a PNG image"],
    ["notes.flac", "not_audio", "This is not an audio file: it looks like a text file"],
    ["garbage.mp3", "unreadable_audio", "No audio found: the file is damaged, or it is not really a .mp3 file"],
    ["mystery.xyz", "unsupported_format", "Unsupported format: .xyz files are not audio we can play"],
    ["song.mp3", "unsupported_format", "Unsupported format: WMA (ASF) is not audio we can play; convert it to FLAC, MP3, Ogg or M4A"],
    ["folder.mp3", "unreadable_file", "This is not a file (a folder, a FIFO or a device?)"],
    ["missing.mp3", "unreadable_file", "The file does not exist (moved or deleted?)"],
  ])("rejects %s with %s", async (name, code, message) => {
    const error = await rejection(bad(name));
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });
});

describe.skipIf(!ffmpeg)("readTags on damaged audio", () => {
  let cutDir: string;
  const originals: Partial<Record<AudioFormat, string>> = {};

  beforeAll(async () => {
    cutDir = await mkdtemp(path.join(os.tmpdir(), "polyphony-cut-tags-"));
    const tags = { TITLE: "Cut", ARTIST: "Alice" };
    const make = async (format: AudioFormat) => {
      originals[format] = await makeAudio(cutDir, { name: `whole-${format}`, format, seconds: 2, tags });
    };
    await Promise.all(ALL_FORMATS.map(make));
  });
  afterAll(async () => {
    if (cutDir) await rm(cutDir, { recursive: true, force: true });
  });

  async function cut(source: string, name: string, keep: number): Promise<string> {
    const bytes = await readFile(source);
    const file = path.join(cutDir, name);
    await writeFile(file, bytes.subarray(0, Math.floor(keep < 1 ? bytes.length * keep : keep)));
    return file;
  }

  it.each(ALL_FORMATS)("rejects a %s file cut to three fifths as truncated", async (format) => {
    const error = await rejection(await cut(originals[format]!, `cut.${format}`, 0.6));
    expect(error.code).toBe("truncated");
    expect(error.message).toMatch(/^The file is cut short or damaged: .+; copy or upload it again$/u);
  });

  it("names what is missing", async () => {
    const id3 = await rejection(await cut(originals.mp3!, "cut-in-tag.mp3", 30));
    expect(id3.message).toBe("The file is cut short or damaged: the ID3 tag is longer than the file; copy or upload it again");
    const flac = await rejection(await cut(originals.flac!, "cut.flac", 0.6));
    expect(flac.message).toMatch(/the FLAC audio stops at 0:0\d of 0:02/u);
    const wav = await rejection(await cut(originals.wav!, "cut.wav", 0.5));
    expect(wav.message).toMatch(/the 'data' chunk needs 352800 bytes, the file holds \d+/u);
  });

  it("refuses a 50 MB ID3 frame without reading it into memory", async () => {
    // A TXXX frame claiming 50 MB, filled sparsely (no 50 MB write), followed by real MP3 audio.
    const frameSize = 50 * 1024 * 1024;
    const syncsafe = (n: number) => [(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f];
    const tagHeader = [...Buffer.from("ID3"), 4, 0, 0, ...syncsafe(10 + frameSize)];
    const header = Buffer.from([...tagHeader, ...Buffer.from("TXXX"), ...syncsafe(frameSize), 0, 0]);
    const audio = await readFile(originals.mp3!);
    const file = path.join(cutDir, "huge-frame.mp3");
    const handle = await open(file, "w");
    await handle.write(header, 0, header.length, 0);
    await handle.write(audio, 0, audio.length, header.length + frameSize);
    await handle.close();
    const error = await rejection(file);
    expect(error.code).toBe("oversized_tags");
    expect(error.message).toBe(
      "The file's tags take 50.0 MB, more than the 32.0 MB we accept: it probably embeds a huge or broken picture; " +
        "remove or shrink the embedded cover and try again",
    );
  });

  it("rejects a video with its audio track", async () => {
    const error = await rejection(await makeVideoClip(cutDir, "clip"));
    expect(error.code).toBe("not_audio");
    expect(error.message).toBe("This is a video, not an audio file; extract its audio track to import it");
  });
});
