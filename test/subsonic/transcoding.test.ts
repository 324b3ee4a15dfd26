import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebServer, type WebServer } from "../../server/main.ts";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";
import { systemProgram } from "../helpers/system-programs.ts";
import { rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";
import { waitUntil } from "../helpers/wait.ts";

const ffprobe = hasFfmpeg() ? systemProgram("ffprobe") : undefined;

interface Probe {
  format: { format_name: string; duration: string };
  streams: { codec_name: string; bit_rate?: string }[];
}

describe.skipIf(!ffprobe)("Subsonic stream with ffmpeg transcoding", () => {
  let app: TestApp;
  let bob: Credentials;
  let dir: string;
  let flac: Buffer;
  let mp3: Buffer;
  const id: Record<string, string> = {};

  beforeAll(async () => {
    // One slot, so the concurrency bound can be reached with two requests.
    app = await startTestApp({ worker: true, env: { TRANSCODE_MAX_CONCURRENT: "1" } });
    const client = new TestClient(app.url);
    bob = await subsonicCredentials(client, "bob");
    dir = await mkdtemp(path.join(os.tmpdir(), "transcode-"));
    flac = await readFile(await makeAudio(dir, { name: "tone", format: "flac", seconds: 4, tags: { TITLE: "Tone", ALBUM: "Tests", ARTIST: "Sine" } }));
    mp3 = await readFile(await makeAudio(dir, { name: "lossy", format: "mp3", seconds: 2, tags: { TITLE: "Lossy", ALBUM: "Tests", ARTIST: "Sine" } }));
    // Ten minutes of silence: tiny as FLAC, but 24 MB as 320 kbit/s MP3, far more than the pipe and socket
    // buffers hold (about 4 MB here), so a transcode whose client does not read blocks and keeps its slot.
    const long = await makeAudio(dir, { name: "long", format: "flac", seconds: 600, ffmpegArgs: ["-af", "volume=0"], tags: { TITLE: "Long", ALBUM: "Tests", ARTIST: "Sine" } });
    const library = (await client.post("/api/v1/libraries", { name: "Mine" })).body.id;
    await client.upload(`/api/v1/libraries/${library}/uploads`, [
      { name: "tone.flac", data: flac },
      { name: "lossy.mp3", data: mp3 },
      { name: "long.flac", data: await readFile(long) },
    ]);
    await waitForImports(app.db.pool, library);
    for (const r of (await app.db.pool.query("SELECT id, title FROM track")).rows) id[r.title] = r.id;
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const stream = (params: Record<string, string>, init: RequestInit = {}) => {
    const url = new URL("/rest/stream", app.url);
    url.search = new URLSearchParams({ ...tokenParams(bob), ...params }).toString();
    return fetch(url, init);
  };
  const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());
  const probe = async (bytes: Buffer): Promise<Probe> => {
    const file = path.join(dir, `probe-${Math.random().toString(36).slice(2)}`);
    await writeFile(file, bytes);
    const { stdout } = await promisify(execFile)(ffprobe!, ["-v", "error", "-show_format", "-show_streams", "-of", "json", file]);
    return JSON.parse(stdout);
  };

  it("reports ffmpeg in the health endpoint and advertises transcodeOffset", async () => {
    const health = await (await fetch(`${app.url}/api/v1/health`)).json();
    expect(health.ffmpeg).toEqual({ available: true, version: expect.stringMatching(/\d/) });
    const extensions = (await rest(app.url, "getOpenSubsonicExtensions", { f: "json" })).json.openSubsonicExtensions;
    expect(extensions).toContainEqual({ name: "transcodeOffset", versions: [1] });
  });

  it("transcodes a FLAC to MP3 at the asked bit rate, chunked and without ranges", async () => {
    const res = await stream({ id: id["Tone"]!, format: "mp3", maxBitRate: "128" }, { headers: { range: "bytes=0-99" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    expect(res.headers.get("accept-ranges")).toBe("none");
    expect(res.headers.get("content-length")).toBeNull();
    expect(res.headers.get("x-content-duration")).toBe("4.00");
    const info = await probe(await bytesOf(res));
    expect(info.format.format_name).toBe("mp3");
    expect(info.streams[0]).toMatchObject({ codec_name: "mp3", bit_rate: "128000" });
    expect(Number(info.format.duration)).toBeCloseTo(4, 0);
  });

  it("transcodes to Ogg Opus with format=opus", async () => {
    const res = await stream({ id: id["Tone"]!, format: "opus" });
    expect(res.headers.get("content-type")).toBe("audio/ogg");
    const bytes = await bytesOf(res);
    expect(bytes.subarray(0, 4).toString("latin1")).toBe("OggS");
    const info = await probe(bytes);
    expect(info.format.format_name).toBe("ogg");
    expect(info.streams[0]!.codec_name).toBe("opus");
  });

  it("transcodes when maxBitRate is below the source's bit rate, and sends the original at or above it or with 0", async () => {
    const { rows } = await app.db.pool.query("SELECT bitrate FROM upload WHERE original_name = 'tone.flac'");
    const sourceKbps = Math.round(rows[0].bitrate / 1000);
    expect(sourceKbps).toBeGreaterThan(64);
    const below = await stream({ id: id["Tone"]!, maxBitRate: "64" });
    expect(below.headers.get("content-type")).toBe("audio/ogg"); // the default format, Opus
    expect((await probe(await bytesOf(below))).streams[0]!.codec_name).toBe("opus");
    for (const maxBitRate of [String(sourceKbps), String(sourceKbps + 100), "0"]) {
      const res = await stream({ id: id["Tone"]!, maxBitRate });
      expect(res.headers.get("content-type")).toBe("audio/flac");
      expect(res.headers.get("accept-ranges")).toBe("bytes");
      expect((await bytesOf(res)).equals(flac)).toBe(true);
    }
  });

  it("never transcodes with format=raw, nor to the source's own format within the limit", async () => {
    expect((await bytesOf(await stream({ id: id["Tone"]!, format: "raw", maxBitRate: "32" }))).equals(flac)).toBe(true);
    expect((await bytesOf(await stream({ id: id["Tone"]!, format: "flac" }))).equals(flac)).toBe(true);
    expect((await bytesOf(await stream({ id: id["Lossy"]!, format: "mp3" }))).equals(mp3)).toBe(true);
    const smaller = await stream({ id: id["Lossy"]!, format: "mp3", maxBitRate: "32" });
    const info = await probe(await bytesOf(smaller));
    expect(info.streams[0]).toMatchObject({ codec_name: "mp3", bit_rate: "32000" });
  });

  it("starts at timeOffset seconds", async () => {
    const res = await stream({ id: id["Tone"]!, format: "mp3", timeOffset: "3" });
    expect(res.headers.get("x-content-duration")).toBe("1.00");
    const seconds = Number((await probe(await bytesOf(res))).format.duration);
    expect(seconds).toBeGreaterThan(0.5);
    expect(seconds).toBeLessThan(1.6);
  });

  it("with estimateContentLength sends exactly duration x bit rate bytes, cut or padded", async () => {
    for (const format of ["mp3", "opus"]) {
      const res = await stream({ id: id["Tone"]!, format, maxBitRate: "128", estimateContentLength: "true" });
      expect(res.headers.get("content-length")).toBe(String((4 * 128_000) / 8));
      const bytes = await bytesOf(res);
      expect(bytes.length).toBe(64_000);
      expect((await probe(bytes)).streams[0]!.codec_name).toBe(format);
    }
  });

  it("bounds concurrent transcodes with 429 and Retry-After, and frees the slot when a client leaves", async () => {
    const holder = new AbortController();
    const held = await stream({ id: id["Long"]!, format: "mp3", maxBitRate: "320" }, { signal: holder.signal });
    expect(held.status).toBe(200); // its body is never read
    const refused = await stream({ id: id["Tone"]!, format: "mp3" });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("5");
    await refused.body?.cancel();
    // HEAD does not start ffmpeg, so it needs no slot; the original file needs none either.
    const head = await stream({ id: id["Tone"]!, format: "mp3" }, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("audio/mpeg");
    expect((await bytesOf(await stream({ id: id["Tone"]!, maxBitRate: "0" }))).equals(flac)).toBe(true);

    holder.abort();
    const next = await waitUntil(async () => {
      const res = await stream({ id: id["Tone"]!, format: "mp3" });
      if (res.status === 200) return res;
      await res.body?.cancel();
      return undefined;
    });
    expect(next.headers.get("content-type")).toBe("audio/mpeg");
    expect((await probe(await bytesOf(next))).streams[0]!.codec_name).toBe("mp3");
    await waitUntil(() => app.deps.transcoder.running === 0 || undefined);
  });

  it("never transcodes a download, and counts no play for streams or downloads", async () => {
    const download = await rest(app.url, "download", { ...tokenParams(bob), id: id["Tone"]!, format: "mp3", maxBitRate: "64" });
    expect(download.headers.get("content-disposition")).toMatch(/^attachment; filename="?tone\.flac/);
    expect(download.bytes.equals(flac)).toBe(true);
    const song = (await rest(app.url, "getSong", { ...tokenParams(bob), f: "json", id: id["Tone"]! })).json.song;
    expect(song.playCount).toBe(0);
  });

  it("sends the original, with ranges, when ffmpeg is missing, and says so in health", async () => {
    const config = { ...app.config, transcoding: { ffmpegPath: path.join(dir, "no-such-ffmpeg"), maxConcurrent: 1 } };
    const web: WebServer = await startWebServer(config, app.db);
    try {
      const health = await (await fetch(`${web.url}/api/v1/health`)).json();
      expect(health.ffmpeg).toEqual({ available: false, version: null });
      const params = new URLSearchParams({ ...tokenParams(bob), id: id["Tone"]!, format: "mp3", maxBitRate: "64" });
      const whole = await fetch(`${web.url}/rest/stream?${params}`);
      expect(whole.headers.get("content-type")).toBe("audio/flac");
      expect((await bytesOf(whole)).equals(flac)).toBe(true);
      const part = await fetch(`${web.url}/rest/stream?${params}`, { headers: { range: "bytes=4-11" } });
      expect(part.status).toBe(206);
      expect((await bytesOf(part)).equals(flac.subarray(4, 12))).toBe(true);
    } finally {
      await web.close();
    }
  });

  it("answers a Subsonic error when ffmpeg cannot read the file, and frees the slot", async () => {
    const { rows } = await app.db.pool.query("SELECT * FROM upload WHERE original_name = 'lossy.mp3'");
    await writeFile(app.deps.uploads.filePath(rows[0]), Buffer.alloc(4096, "B"));
    const res = await rest(app.url, "stream", { ...tokenParams(bob), f: "json", id: id["Lossy"]!, format: "opus" });
    expect(res.status).toBe(200);
    expect(res.json.error).toEqual({ code: 0, message: "The file could not be transcoded" });
    expect(app.deps.transcoder.running).toBe(0);
  });
});
