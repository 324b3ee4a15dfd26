import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";
import { startNginx, type RunningNginx } from "../helpers/nginx.ts";
import { systemProgram } from "../helpers/system-programs.ts";
import { waitUntil } from "../helpers/wait.ts";

const ffmpeg = hasFfmpeg();
const nginx = ffmpeg ? systemProgram("nginx") : undefined;
const TAGS = { TITLE: "Hoppípolla", ARTIST: "Sigur Rós", ALBUM: "Takk...", TRACKNUMBER: "3" };

/** A running app with one user, a private library holding the same track as MP3 and FLAC. */
async function setUp(env: Record<string, string> = {}) {
  const app = await startTestApp({ worker: true, env });
  const owner = new TestClient(app.url);
  await owner.signup("owner");
  const dir = await mkdtemp(path.join(os.tmpdir(), "stream-"));
  const mp3 = await readFile(await makeAudio(dir, { name: "hop", format: "mp3", seconds: 4, tags: TAGS }));
  const flac = await readFile(await makeAudio(dir, { name: "hop", format: "flac", seconds: 4, tags: TAGS }));
  const library = (await owner.post("/api/v1/libraries", { name: "Private" })).body.id;
  const res = await owner.upload(`/api/v1/libraries/${library}/uploads`, [
    { name: "Hoppípolla #3.mp3", data: mp3 },
    { name: "Hoppípolla #3.flac", data: flac },
  ]);
  await waitForImports(app.db.pool, library);
  const [mp3Upload, flacUpload] = res.body.uploads;
  return { app, owner, dir, mp3, flac, mp3Upload, flacUpload, trackId: (await owner.get(`/api/v1/uploads/${mp3Upload.id}`)).body.trackId };
}

describe.skipIf(!ffmpeg)("streaming from Express", () => {
  let s: Awaited<ReturnType<typeof setUp>>;
  beforeAll(async () => {
    s = await setUp();
  });
  afterAll(async () => {
    await s?.app.close();
    await rm(s?.dir ?? "/nonexistent", { recursive: true, force: true });
  });

  it("serves the whole upload with its type, length, validators and range support", async () => {
    const res = await fetch(`${s.app.url}/api/v1/uploads/${s.mp3Upload.id}/stream`, { headers: { cookie: s.owner.cookie! } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    expect(res.headers.get("content-length")).toBe(String(s.mp3.length));
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("etag")).toBeTruthy();
    expect(res.headers.get("last-modified")).toBeTruthy();
    expect(Buffer.from(await res.arrayBuffer()).equals(s.mp3)).toBe(true);
  });

  it("answers Range with 206 and the exact bytes, and 416 when unsatisfiable", async () => {
    const url = `${s.app.url}/api/v1/uploads/${s.mp3Upload.id}/stream`;
    const partial = await fetch(url, { headers: { cookie: s.owner.cookie!, range: "bytes=100-1099" } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get("content-range")).toBe(`bytes 100-1099/${s.mp3.length}`);
    expect(Buffer.from(await partial.arrayBuffer()).equals(s.mp3.subarray(100, 1100))).toBe(true);
    const beyond = await fetch(url, { headers: { cookie: s.owner.cookie!, range: `bytes=${s.mp3.length + 10}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${s.mp3.length}`);
  });

  it("streams a track from its best copy: lossless first", async () => {
    const res = await fetch(`${s.app.url}/api/v1/tracks/${s.trackId}/stream`, { headers: { cookie: s.owner.cookie! } });
    expect(res.headers.get("content-type")).toBe("audio/flac");
    expect(Buffer.from(await res.arrayBuffer()).equals(s.flac)).toBe(true);
  });

  it("hides private audio from other users and anonymous listeners with a plain 404", async () => {
    const stranger = new TestClient(s.app.url);
    await stranger.signup("stranger");
    for (const client of [stranger, new TestClient(s.app.url)]) {
      expect((await client.get(`/api/v1/uploads/${s.mp3Upload.id}/stream`)).status).toBe(404);
      expect((await client.get(`/api/v1/tracks/${s.trackId}/stream`)).status).toBe(404);
    }
    await s.owner.request("PATCH", `/api/v1/libraries/${s.mp3Upload.libraryId}`, { json: { privacy: "instance" } });
    expect((await stranger.get(`/api/v1/tracks/${s.trackId}/stream`)).status).toBe(200);
    expect((await new TestClient(s.app.url).get(`/api/v1/tracks/${s.trackId}/stream`)).status).toBe(404);
  });
});

describe.skipIf(!nginx)("streaming through nginx (X-Accel-Redirect)", () => {
  let s: Awaited<ReturnType<typeof setUp>>;
  let proxy: RunningNginx;
  beforeAll(async () => {
    s = await setUp({ MEDIA_SERVING: "nginx" });
    proxy = await startNginx({ upstreamPort: Number(new URL(s.app.url).port), mediaRoot: s.app.config.mediaDir });
  });
  afterAll(async () => {
    await proxy?.stop();
    await s?.app.close();
    await rm(s?.dir ?? "/nonexistent", { recursive: true, force: true });
  });

  it("lets the app authorise and nginx send the bytes, whole and by range", async () => {
    const direct = await fetch(`${s.app.url}/api/v1/uploads/${s.flacUpload.id}/stream`, { headers: { cookie: s.owner.cookie! } });
    expect(direct.headers.get("x-accel-redirect")).toMatch(/^\/_protected\/media\/uploads\//);
    expect((await direct.arrayBuffer()).byteLength).toBe(0);

    const url = `${proxy.url}/api/v1/uploads/${s.flacUpload.id}/stream`;
    const whole = await fetch(url, { headers: { cookie: s.owner.cookie! } });
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-type")).toBe("audio/flac");
    expect(whole.headers.get("x-accel-redirect")).toBeNull();
    expect(Buffer.from(await whole.arrayBuffer()).equals(s.flac)).toBe(true);
    const part = await fetch(url, { headers: { cookie: s.owner.cookie!, range: "bytes=-2048" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes ${s.flac.length - 2048}-${s.flac.length - 1}/${s.flac.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(s.flac.subarray(s.flac.length - 2048))).toBe(true);
  });

  it("serves files of an in-place music folder from where they are", async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), "in-place-stream-"));
    try {
      const file = await makeAudio(folder, { name: "Живой звук #1", format: "ogg", tags: { TITLE: "Live", ARTIST: "Band" } });
      const lib = (await s.owner.post("/api/v1/libraries", { name: "Folder", musicFolder: folder })).body.id;
      const upload = await waitUntil(async () => {
        const { rows } = await s.app.db.pool.query("SELECT id FROM upload WHERE library_id = $1 AND status = 'finished'", [lib]);
        return rows[0]?.id as string | undefined;
      });
      const res = await fetch(`${proxy.url}/api/v1/uploads/${upload}/stream`, { headers: { cookie: s.owner.cookie! } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("audio/ogg");
      expect(Buffer.from(await res.arrayBuffer()).equals(await readFile(file))).toBe(true);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it("still refuses unauthorised listeners, and the internal location cannot be fetched directly", async () => {
    expect((await fetch(`${proxy.url}/api/v1/uploads/${s.flacUpload.id}/stream`)).status).toBe(404);
    const { rows } = await s.app.db.pool.query("SELECT path FROM upload WHERE id = $1", [s.flacUpload.id]);
    expect((await fetch(`${proxy.url}/_protected/media/${rows[0].path}`)).status).toBe(404);
  });
});
