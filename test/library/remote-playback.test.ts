import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupTask } from "../../workers/tasks/cleanup.task.ts";
import { hasFfmpeg, makeAudio, type AudioFormat } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { freePort } from "../helpers/ports.ts";
import { followedRemoteLibrary, localPublicKeys, remoteTrack, startAudioRemote, type AudioMode, type AudioRemote } from "../helpers/remote-audio.ts";
import { seedTrack } from "../helpers/factories.ts";
import { waitUntil } from "../helpers/wait.ts";
import { rest, tokenParams, type Credentials } from "../subsonic/helpers.ts";

// Remote tracks play like local ones (issue 16, point 5): the first play fetches the audio signed as the
// listener and keeps a copy; later plays come from the copy; a remote's failures answer at once.

const ffmpeg = hasFfmpeg();
const TIMEOUT_SECONDS = 2;

let app: TestApp;
let remote: AudioRemote;
let alice: TestClient;
let aliceFid: string;
let creds: Credentials;
let seedLibrary: string;
let remoteLibrary: string;
let dir: string;
const audio: Partial<Record<AudioFormat, Buffer>> = {};

beforeAll(async () => {
  if (!ffmpeg) return;
  app = await startTestApp({
    env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true", REMOTE_MEDIA_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS), REMOTE_CACHE_MAX_MB: "1" },
  });
  alice = new TestClient(app.url);
  await alice.signup("alice");
  creds = (await alice.get("/api/v1/me/subsonic")).body as Credentials;
  await new TestClient(app.url).signup("bob");
  aliceFid = (await app.db.pool.query("SELECT a.fid FROM actor a JOIN app_user u ON u.actor_id = a.id WHERE u.username = 'alice'")).rows[0].fid;
  remote = await startAudioRemote(localPublicKeys(app));
  seedLibrary = (await alice.post("/api/v1/libraries", { name: "Seed" })).body.id;
  remoteLibrary = await followedRemoteLibrary(app, remote.origin, ["alice"]);
  dir = await mkdtemp(path.join(os.tmpdir(), "remote-play-"));
  for (const format of ["mp3", "flac", "wav"] as const) {
    audio[format] = await readFile(await makeAudio(dir, { name: "tone", format, seconds: 4 }));
  }
});

afterAll(async () => {
  await remote?.close();
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A remote track whose audio the stand-in serves at /audio/<name> as `mode` says (the bytes of `format` by default). */
async function track(name: string, mode: (data: Buffer) => AudioMode = (data) => ({ kind: "ok", data }), format: AudioFormat = "mp3", origin?: string) {
  const data = audio[format]!;
  remote.modes.set(`/audio/${name}`, mode(data));
  const seeded = await remoteTrack(app, seedLibrary, remoteLibrary, origin ?? remote.origin, `/audio/${name}`, {
    tags: { TITLE: name, ARTIST: "Remote Artist", ALBUM: "Remote Album" },
    format,
    data,
    seconds: 4,
  });
  return { ...seeded, data, path: `/audio/${name}` };
}

const streamOf = (trackId: string, headers: Record<string, string> = {}, client = alice) =>
  fetch(`${app.url}/api/v1/tracks/${trackId}/stream`, { headers: { cookie: client.cookie!, ...headers } });

async function copyOf(uploadId: string): Promise<{ cached_path: string | null; cached_size: string | null; cache_used_at: Date | null }> {
  return (await app.db.pool.query("SELECT cached_path, cached_size, cache_used_at FROM upload WHERE id = $1", [uploadId])).rows[0];
}

const cachedPath = (uploadId: string) => waitUntil(async () => (await copyOf(uploadId)).cached_path ?? undefined, { what: "the copy to be recorded" });

async function cacheFiles(): Promise<string[]> {
  const names = await readdir(path.join(app.config.mediaDir, "remote-cache"), { recursive: true, withFileTypes: true }).catch(() => []);
  return names.filter((e) => e.isFile()).map((e) => path.relative(app.config.mediaDir, path.join(e.parentPath, e.name)));
}

describe.skipIf(!ffmpeg)("playing a remote track", () => {
  it("first play streams the exact bytes from a GET signed by the listener, and keeps a copy", async () => {
    const t = await track("first");
    const res = await streamOf(t.trackId);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    expect(res.headers.get("content-length")).toBe(String(t.data.length));
    expect(Buffer.from(await res.arrayBuffer()).equals(t.data)).toBe(true);
    const hits = remote.hitsOf(t.path);
    expect(hits).toHaveLength(1);
    // Signed with alice's key as our database holds it, and no Range asked of the remote.
    expect(hits[0]).toMatchObject({ signedBy: `${aliceFid}#main-key`, range: undefined });
    const cached = await cachedPath(t.uploadId);
    expect(cached).toMatch(new RegExp(`^remote-cache/${t.uploadId.slice(0, 2)}/${t.uploadId}\\.[0-9a-f]{12}\\.mp3$`));
    expect((await readFile(path.join(app.config.mediaDir, cached))).equals(t.data)).toBe(true);
    expect(Number((await copyOf(t.uploadId)).cached_size)).toBe(t.data.length);
    expect((await cacheFiles()).filter((f) => f.endsWith(".part"))).toEqual([]);
  });

  it("plays the copy on this server when the track has one, even when the remote copy is better", async () => {
    const t = await track("both");
    // The same track imported here too, at a lower bitrate than the remote copy claims.
    const local = await seedTrack(app, seedLibrary, { tags: { TITLE: "both", ARTIST: "Remote Artist", ALBUM: "Remote Album" }, format: "mp3", seconds: 4 });
    expect(local.trackId).toBe(t.trackId);
    await app.db.pool.query("UPDATE upload SET bitrate = 320000, lossless = true WHERE id = $1", [t.uploadId]);
    remote.modes.set(t.path, { kind: "status", status: 500 }); // would fail if asked
    const res = await streamOf(t.trackId);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(remote.hitsOf(t.path)).toHaveLength(0);
    // Once the copy here is gone, the remote one plays.
    await app.db.pool.query("DELETE FROM upload WHERE id = $1", [local.uploadId]);
    remote.modes.set(t.path, { kind: "ok", data: t.data });
    const remoteOnly = await streamOf(t.trackId);
    expect(Buffer.from(await remoteOnly.arrayBuffer()).equals(t.data)).toBe(true);
    expect(remote.hitsOf(t.path)).toHaveLength(1);
  });

  it("plays again from the copy without asking the remote, with validators and ranges", async () => {
    const t = await track("again");
    expect((await streamOf(t.trackId)).status).toBe(200);
    await cachedPath(t.uploadId);
    remote.modes.set(t.path, { kind: "status", status: 500 }); // would fail if asked
    const again = await streamOf(t.trackId);
    expect(again.status).toBe(200);
    expect(again.headers.get("etag")).toBeTruthy();
    expect(Buffer.from(await again.arrayBuffer()).equals(t.data)).toBe(true);
    const part = await streamOf(t.trackId, { range: "bytes=100-1099" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-1099/${t.data.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(t.data.subarray(100, 1100))).toBe(true);
    const upload = await fetch(`${app.url}/api/v1/uploads/${t.uploadId}/stream`, { headers: { cookie: alice.cookie! } });
    expect(Buffer.from(await upload.arrayBuffer()).equals(t.data)).toBe(true);
    expect(remote.hitsOf(t.path)).toHaveLength(1);
  });

  it("answers a range of a track not copied yet from the download, then from the copy", async () => {
    const t = await track("range-first", (data) => ({ kind: "ok", data, chunkBytes: 4096, chunkDelayMs: 5 }));
    const tail = await streamOf(t.trackId, { range: "bytes=-1000" });
    expect(tail.status).toBe(206);
    expect(tail.headers.get("content-range")).toBe(`bytes ${t.data.length - 1000}-${t.data.length - 1}/${t.data.length}`);
    expect(Buffer.from(await tail.arrayBuffer()).equals(t.data.subarray(t.data.length - 1000))).toBe(true);
    await cachedPath(t.uploadId);
    const middle = await streamOf(t.trackId, { range: "bytes=5000-5999" });
    expect(middle.status).toBe(206);
    expect(Buffer.from(await middle.arrayBuffer()).equals(t.data.subarray(5000, 6000))).toBe(true);
    expect(remote.hitsOf(t.path)).toHaveLength(1);
  });

  it("shares one download between listeners who start the same track together", async () => {
    const t = await track("together", (data) => ({ kind: "ok", data, chunkBytes: 4096, chunkDelayMs: 20 }));
    const [a, b, c] = await Promise.all([streamOf(t.trackId), streamOf(t.trackId), streamOf(t.trackId, { range: "bytes=0-" })]);
    const bodies = await Promise.all([a, b, c].map(async (r) => Buffer.from(await r.arrayBuffer())));
    expect([a.status, b.status, c.status]).toEqual([200, 200, 206]);
    for (const body of bodies) expect(body.equals(t.data)).toBe(true);
    expect(remote.hitsOf(t.path)).toHaveLength(1);
    await cachedPath(t.uploadId);
  });

  it("takes the size the Audio object announced when the remote sends no Content-Length", async () => {
    const t = await track("chunked", (data) => ({ kind: "ok", data, omitLength: true, chunkBytes: 8192, chunkDelayMs: 2 }));
    const res = await streamOf(t.trackId);
    expect(res.headers.get("content-length")).toBe(String(t.data.length));
    expect(Buffer.from(await res.arrayBuffer()).equals(t.data)).toBe(true);
    await cachedPath(t.uploadId);
    // Announced one size, sent another: nothing is kept.
    const wrong = await track("chunked-wrong", (data) => ({ kind: "ok", data: data.subarray(0, data.length - 10), omitLength: true }));
    await expect((await streamOf(wrong.trackId)).arrayBuffer()).rejects.toThrow();
    await waitUntil(async () => app.deps.playback.downloading === 0, { what: "the download to end" });
    expect((await copyOf(wrong.uploadId)).cached_path).toBeNull();
  });

  it("keeps nothing of a download cut short, cuts the listener's answer, and fetches again at the next play", async () => {
    const t = await track("cut", (data) => ({ kind: "cut", data, bytes: Math.floor(data.length / 2) }));
    const res = await streamOf(t.trackId);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(t.data.length));
    // The connection is cut: never a short body taken for the whole file.
    await expect(res.arrayBuffer()).rejects.toThrow();
    await waitUntil(async () => app.deps.playback.downloading === 0, { what: "the download to end" });
    expect((await copyOf(t.uploadId)).cached_path).toBeNull();
    expect((await cacheFiles()).filter((f) => f.includes(t.uploadId))).toEqual([]);

    remote.modes.set(t.path, { kind: "ok", data: t.data });
    const retry = await streamOf(t.trackId);
    expect(Buffer.from(await retry.arrayBuffer()).equals(t.data)).toBe(true);
    expect(remote.hitsOf(t.path)).toHaveLength(2);
    await cachedPath(t.uploadId);
  });

  it("answers 502 with the error shape when the remote refuses or fails, and keeps nothing", async () => {
    for (const status of [403, 500]) {
      const t = await track(`refused-${status}`, () => ({ kind: "status", status }));
      const res = await alice.get(`/api/v1/tracks/${t.trackId}/stream`);
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe("remote_refused");
      expect(res.body.error.message).toContain(`HTTP ${status}`);
      expect(res.body.error.message).toContain(new URL(remote.origin).host);
      expect((await copyOf(t.uploadId)).cached_path).toBeNull();
    }
    const html = await track("not-audio", (data) => ({ kind: "ok", data, type: "text/html" }));
    const res = await alice.get(`/api/v1/tracks/${html.trackId}/stream`);
    expect(res.status).toBe(502);
    expect(res.body.error.message).toContain("text/html instead of audio");
  });

  it("answers 503 at once when the remote cannot be reached", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const t = await track("unreachable", undefined, "mp3", closed);
    const started = Date.now();
    const res = await alice.get(`/api/v1/tracks/${t.trackId}/stream`);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("remote_unreachable");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("answers 504 when the remote stays silent past the limit", async () => {
    const t = await track("silent", () => ({ kind: "silent" }));
    const started = Date.now();
    const res = await alice.get(`/api/v1/tracks/${t.trackId}/stream`);
    expect(res.status).toBe(504);
    expect(res.body.error.code).toBe("remote_timeout");
    expect(res.body.error.message).toContain(`${TIMEOUT_SECONDS} seconds`);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_SECONDS * 1000 + 2_000);
  });

  it("is a plain 404 to someone who does not follow the library, and never reaches the remote", async () => {
    const t = await track("not-followed");
    const bob = new TestClient(app.url);
    await bob.login("bob");
    expect((await bob.get(`/api/v1/tracks/${t.trackId}/stream`)).status).toBe(404);
    expect((await bob.get(`/api/v1/uploads/${t.uploadId}/stream`)).status).toBe(404);
    expect((await new TestClient(app.url).get(`/api/v1/tracks/${t.trackId}/stream`)).status).toBe(404);
    const bobCreds = (await bob.get("/api/v1/me/subsonic")).body as Credentials;
    const subsonic = await rest(app.url, "stream", { ...tokenParams(bobCreds), id: t.trackId, f: "json" });
    expect(subsonic.json.error.code).toBe(70);
    expect(remote.hitsOf(t.path)).toHaveLength(0);
  });
});

describe.skipIf(!ffmpeg)("a remote track in Subsonic apps", () => {
  it("streams and downloads like a local one", async () => {
    const t = await track("subsonic");
    const res = await rest(app.url, "stream", { ...tokenParams(creds), id: t.trackId });
    expect(res.status).toBe(200);
    expect(res.type).toBe("audio/mpeg");
    expect(res.bytes.equals(t.data)).toBe(true);
    await cachedPath(t.uploadId);
    const download = await rest(app.url, "download", { ...tokenParams(creds), id: t.trackId });
    expect(download.bytes.equals(t.data)).toBe(true);
    expect(download.headers.get("content-disposition")).toContain("attachment");
    expect(remote.hitsOf(t.path)).toHaveLength(1);
  });

  it("transcodes a track not copied yet from its whole copy", async () => {
    const t = await track("subsonic-flac", undefined, "flac");
    const res = await rest(app.url, "stream", { ...tokenParams(creds), id: t.trackId, format: "mp3", maxBitRate: "128" });
    expect(res.status).toBe(200);
    expect(res.type).toBe("audio/mpeg");
    expect(res.bytes.length).toBeGreaterThan(1000);
    expect((await copyOf(t.uploadId)).cached_path).toMatch(/\.flac$/);
    expect(remote.hitsOf(t.path)).toHaveLength(1);
  });

  it("answers a remote's failure in the Subsonic envelope, code 0 with the reason", async () => {
    const t = await track("subsonic-refused", () => ({ kind: "status", status: 403 }));
    const res = await rest(app.url, "stream", { ...tokenParams(creds), id: t.trackId, f: "json" });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe("failed");
    expect(res.json.error.code).toBe(0);
    expect(res.json.error.message).toContain("refused to send it (HTTP 403)");
    const silent = await track("subsonic-silent", () => ({ kind: "silent" }));
    const late = await rest(app.url, "stream", { ...tokenParams(creds), id: silent.trackId, f: "json" });
    expect(late.json.error).toMatchObject({ code: 0, message: expect.stringContaining("did not answer") });
  });
});

// Last: these fill and empty the 1 MB cache the tests above share.
describe.skipIf(!ffmpeg)("the remote audio cache", () => {
  it("evicts the least recently played copies past REMOTE_CACHE_MAX_MB", async () => {
    const a = await track("lru-a", undefined, "wav");
    const b = await track("lru-b", undefined, "wav");
    expect(a.data.length).toBeGreaterThan(512 * 1024); // two do not fit in 1 MB
    await (await streamOf(a.trackId)).arrayBuffer();
    const aPath = await cachedPath(a.uploadId);
    await (await streamOf(b.trackId)).arrayBuffer();
    await cachedPath(b.uploadId);
    await waitUntil(async () => (await copyOf(a.uploadId)).cached_path === null, { what: "the older copy to be evicted" });
    // Its file goes just after the row forgets it.
    await waitUntil(async () => !(await cacheFiles()).includes(aPath), { what: "the evicted file to be removed" });
    // Played again: fetched again, and now the other one goes.
    const again = await streamOf(a.trackId);
    expect(Buffer.from(await again.arrayBuffer()).equals(a.data)).toBe(true);
    expect(remote.hitsOf(a.path)).toHaveLength(2);
    await cachedPath(a.uploadId);
    await waitUntil(async () => (await copyOf(b.uploadId)).cached_path === null, { what: "the other copy to be evicted" });
    const total = await app.db.pool.query("SELECT coalesce(sum(cached_size), 0)::int AS n FROM upload WHERE cached_path IS NOT NULL");
    expect(total.rows[0].n).toBeLessThanOrEqual(1024 * 1024);
  });

  it("takes a copy whose file went missing as no copy", async () => {
    const t = await track("vanished");
    await (await streamOf(t.trackId)).arrayBuffer();
    await rm(path.join(app.config.mediaDir, await cachedPath(t.uploadId)));
    const res = await streamOf(t.trackId);
    expect(Buffer.from(await res.arrayBuffer()).equals(t.data)).toBe(true);
    expect(remote.hitsOf(t.path)).toHaveLength(2);
    await cachedPath(t.uploadId);
  });

  it("hourly cleanup removes abandoned downloads and unrecorded copies, and evicts past the cap", async () => {
    const t = await track("cleanup");
    await (await streamOf(t.trackId)).arrayBuffer();
    const kept = await cachedPath(t.uploadId);
    const shard = path.join(app.config.mediaDir, "remote-cache", "zz");
    await mkdir(shard, { recursive: true });
    const hourAgo = new Date(Date.now() - 2 * 3600_000);
    for (const name of ["old.part", "orphan.abc123.mp3"]) {
      await writeFile(path.join(shard, name), "x");
      await utimes(path.join(shard, name), hourAgo, hourAgo);
    }
    await writeFile(path.join(shard, "live.part"), "x");
    await utimes(path.join(app.config.mediaDir, kept), hourAgo, hourAgo); // old but recorded: stays
    await cleanupTask({ pool: app.db.pool, mediaDir: app.config.mediaDir, remoteCacheMaxBytes: 1024 * 1024 })({}, undefined as never);
    expect((await readdir(shard)).sort()).toEqual(["live.part"]);
    expect(await cacheFiles()).toContain(kept);
    // A lowered cap applies at the next cleanup.
    await cleanupTask({ pool: app.db.pool, mediaDir: app.config.mediaDir, remoteCacheMaxBytes: 1 })({}, undefined as never);
    expect((await copyOf(t.uploadId)).cached_path).toBeNull();
    expect(await cacheFiles()).not.toContain(kept);
  });

  it("moves no catalog generation when copies are kept, used or evicted", async () => {
    const generation = async () => (await app.db.pool.query("SELECT value FROM catalog_generation")).rows[0]?.value;
    const t = await track("generation");
    const before = await generation();
    await (await streamOf(t.trackId)).arrayBuffer();
    await cachedPath(t.uploadId);
    await app.db.pool.query("UPDATE upload SET cache_used_at = now() - interval '1 hour' WHERE id = $1", [t.uploadId]);
    await (await streamOf(t.trackId)).arrayBuffer();
    await cleanupTask({ pool: app.db.pool, mediaDir: app.config.mediaDir, remoteCacheMaxBytes: 1 })({}, undefined as never);
    expect(await generation()).toBe(before);
    await app.db.pool.query("UPDATE upload SET bitrate = bitrate + 1 WHERE id = $1", [t.uploadId]);
    expect(await generation()).not.toBe(before);
  });
});
