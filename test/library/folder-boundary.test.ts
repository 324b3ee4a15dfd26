import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio, makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";
import { rest, subsonicCredentials, tokenParams, type Credentials } from "../subsonic/helpers.ts";
import { waitUntil } from "../helpers/wait.ts";

const ffmpeg = hasFfmpeg();
const ALBUM = { ALBUM: "Boundary", ALBUMARTIST: "Tester", ARTIST: "Tester" };
/** More FIFOs than libuv has threads (4): opening each without O_NONBLOCK would park the whole pool. */
const FIFO_TRACKS = 6;

/**
 * A music folder whose files try to lead out of it: .lrc and cover links to secrets, audio links out,
 * a linked folder, and FIFOs named like lyrics, covers and audio (issue 14, point 3).
 */
describe.skipIf(!ffmpeg)("a music folder is a boundary", () => {
  let app: TestApp;
  let owner: TestClient;
  let creds: Credentials;
  let music: string;
  let outside: string;
  let libraryId: string;
  const trackIds: Record<string, string> = {};
  const uploadIds: Record<string, string> = {};
  const sub = (method: string, params: Record<string, string> = {}) => rest(app.url, method, { ...tokenParams(creds), f: "json", ...params });

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    owner = new TestClient(app.url);
    creds = await subsonicCredentials(owner, "curator");
    music = await mkdtemp(path.join(os.tmpdir(), "boundary-music-"));
    outside = await mkdtemp(path.join(os.tmpdir(), "boundary-outside-"));
    await writeFile(path.join(outside, "secret.txt"), "[00:01.00]TOP SECRET\n");
    await makeAudio(outside, { name: "outside", format: "mp3", tags: { TITLE: "Outside", ARTIST: "Stranger" } });
    await writeFile(path.join(outside, "outside-cover.jpg"), await makeCoverImage(300, 300, "jpeg"));
    await mkdir(path.join(outside, "elsewhere"));
    await makeAudio(path.join(outside, "elsewhere"), { name: "far", format: "mp3", tags: { TITLE: "Far", ARTIST: "Stranger" } });

    const album = path.join(music, "Boundary");
    await mkdir(album);
    const track = (name: string, title: string, n: number, dir = album) =>
      makeAudio(dir, { name, format: "mp3", tags: { ...ALBUM, TITLE: title, TRACKNUMBER: String(n) } });
    await track("01 Leak", "Leak", 1);
    await symlink(path.join(outside, "secret.txt"), path.join(album, "01 Leak.lrc"));
    await track("02 Key", "Key", 2);
    const secretKey = path.join(app.config.dataDir, "secret.key");
    expect(existsSync(secretKey)).toBe(true);
    await symlink(secretKey, path.join(album, "02 Key.lrc"));
    await track("03 Own", "Own", 3);
    await writeFile(path.join(album, "03 Own.lrc"), "[00:01.00]Our own words\n");
    // A link that stays inside the folder (its target is in a hidden folder the walk does not list).
    await mkdir(path.join(music, ".store"));
    await track("inside", "Inside Link", 4, path.join(music, ".store"));
    await symlink(path.join(music, ".store", "inside.mp3"), path.join(album, "04 Inside Link.mp3"));
    await symlink(path.join(outside, "outside.mp3"), path.join(album, "05 Outside Link.mp3"));
    await symlink(path.join(outside, "outside-cover.jpg"), path.join(album, "cover.jpg"));
    mkfifo(path.join(album, "06 Fifo.mp3"));
    await symlink(path.join(outside, "elsewhere"), path.join(music, "Linked"));

    const fifos = path.join(music, "Fifos");
    await mkdir(fifos);
    for (let n = 1; n <= FIFO_TRACKS; n++) {
      await makeAudio(fifos, { name: `f${n}`, format: "mp3", tags: { ALBUM: "Fifos", ARTIST: "Tester", TITLE: `F${n}` } });
      mkfifo(path.join(fifos, `f${n}.lrc`));
    }
    mkfifo(path.join(fifos, "cover.jpg"));

    libraryId = (await owner.post("/api/v1/libraries", { name: "NAS", musicFolder: music, privacy: "instance" })).body.id;
    await waitUntil(async () => (await scanDone(app)) || undefined, { timeout: 60_000 });
    await waitForImports(app.db.pool, libraryId);
    const { rows } = await app.db.pool.query("SELECT u.id, u.track_id, t.title FROM upload u LEFT JOIN track t ON t.id = u.track_id");
    for (const row of rows) {
      trackIds[row.title] = row.track_id;
      uploadIds[row.title] = row.id;
    }
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await rm(music, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it("imports regular files inside the folder and links that stay inside; skips links out, linked folders and FIFOs", async () => {
    const { rows } = await app.db.pool.query("SELECT path, root, status FROM upload ORDER BY path");
    expect(rows.map((r) => [path.relative(music, r.path), r.status])).toEqual([
      ["Boundary/01 Leak.mp3", "finished"],
      ["Boundary/02 Key.mp3", "finished"],
      ["Boundary/03 Own.mp3", "finished"],
      ["Boundary/04 Inside Link.mp3", "finished"],
      ...Array.from({ length: FIFO_TRACKS }, (_, i) => [`Fifos/f${i + 1}.mp3`, "finished"]),
    ]);
    expect(new Set(rows.map((r) => r.root))).toEqual(new Set([music]));
  });

  it("serves no lyrics read through a link out of the folder (a secret file, the data directory's secret.key)", async () => {
    for (const title of ["Leak", "Key"]) {
      const structured = (await sub("getLyricsBySongId", { id: trackIds[title]! })).json.lyricsList;
      expect(structured).toEqual({ structuredLyrics: [] });
      expect((await sub("getLyrics", { artist: "Tester", title })).json.lyrics).toEqual({ artist: "Tester", title });
    }
    const { rows } = await app.db.pool.query("SELECT count(*)::int AS n FROM upload WHERE lyrics LIKE '%SECRET%' OR lyrics ~ '^[0-9a-f]{64}$'");
    expect(rows[0].n).toBe(0);
    // The folder's own .lrc is still read.
    const own = (await sub("getLyricsBySongId", { id: trackIds.Own! })).json.lyricsList.structuredLyrics;
    expect(own[0].line).toEqual([{ start: 1000, value: "Our own words" }]);
  });

  it("takes no cover through a link out of the folder, nor from a FIFO named cover.jpg", async () => {
    const { rows } = await app.db.pool.query("SELECT title, cover_hash FROM album ORDER BY title");
    expect(rows).toEqual([{ title: "Boundary", cover_hash: null }, { title: "Fifos", cover_hash: null }]);
  });

  it("keeps answering while FIFOs named .lrc, cover.jpg and .mp3 sit in the folder", async () => {
    // Imports are done (beforeAll); logins hash passwords on the same thread pool a blocked open would hold.
    const visitor = new TestClient(app.url);
    expect((await visitor.signup("visitor")).status).toBe(201);
    expect((await new TestClient(app.url).login("visitor")).status).toBe(200);
    expect((await sub("ping")).json.status).toBe("ok");
    const res = await fetch(`${app.url}/api/v1/tracks/${trackIds.F1}/stream`, { headers: { cookie: owner.cookie! } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });

  it("streams nothing through an imported link swapped to point out of the folder: raw, transcoded or downloaded", async () => {
    const link = path.join(music, "Boundary", "04 Inside Link.mp3");
    const cookie = { cookie: owner.cookie! };
    expect((await fetch(`${app.url}/api/v1/uploads/${uploadIds["Inside Link"]}/stream`, { headers: cookie })).status).toBe(200);
    for (const target of [path.join(outside, "outside.mp3"), path.join(outside, "secret.txt")]) {
      await rm(link);
      await symlink(target, link);
      const upload = await fetch(`${app.url}/api/v1/uploads/${uploadIds["Inside Link"]}/stream`, { headers: cookie });
      expect([upload.status, (await upload.json()).error.code]).toEqual([404, "not_found"]);
      expect((await fetch(`${app.url}/api/v1/tracks/${trackIds["Inside Link"]}/stream`, { headers: cookie })).status).toBe(404);
      const id = trackIds["Inside Link"]!;
      for (const [method, params] of [["stream", {}], ["stream", { format: "mp3", maxBitRate: "64" }], ["download", {}]] as const) {
        const answer = await sub(method, { id, ...params });
        expect([method, params, answer.type, answer.json?.error?.code]).toEqual([method, params, expect.stringContaining("json"), 70]);
      }
    }
    // Pointing back inside, it plays again: the boundary, not a broken file, was the reason.
    await rm(link);
    await symlink(path.join(music, ".store", "inside.mp3"), link);
    expect((await fetch(`${app.url}/api/v1/uploads/${uploadIds["Inside Link"]}/stream`, { headers: cookie })).status).toBe(200);
  });

  it("answers 404 at once for an imported file replaced by a FIFO", async () => {
    const file = path.join(music, "Boundary", "03 Own.mp3");
    await rm(file);
    mkfifo(file);
    const res = await fetch(`${app.url}/api/v1/uploads/${uploadIds.Own}/stream`, { headers: { cookie: owner.cookie! } });
    expect(res.status).toBe(404);
    expect((await sub("stream", { id: trackIds.Own!, format: "mp3" })).json.error.code).toBe(70);
  });

  it("does not scan a music folder that became a link to MEDIA_DIR, or is gone: nothing of it imported, nothing removed", async () => {
    const moving = await mkdtemp(path.join(os.tmpdir(), "boundary-moving-"));
    await makeAudio(moving, { name: "mine", format: "mp3", tags: { TITLE: "Mine", ARTIST: "Mover" } });
    const library = (await owner.post("/api/v1/libraries", { name: "Moving", musicFolder: moving })).body.id;
    await waitUntil(async () => (await scanDone(app)) || undefined, { timeout: 60_000 });
    await waitForImports(app.db.pool, library);
    // Another user's stored upload, as far as a scan can tell.
    await mkdir(path.join(app.config.mediaDir, "uploads"), { recursive: true });
    await makeAudio(path.join(app.config.mediaDir, "uploads"), { name: "theirs", format: "mp3", tags: { TITLE: "Theirs" } });
    await rm(moving, { recursive: true });
    const scanned = async () => {
      expect((await owner.post(`/api/v1/libraries/${library}/scan`)).status).toBe(202);
      await waitUntil(async () => (await scanDone(app)) || undefined, { timeout: 60_000 });
      return (await app.db.pool.query("SELECT path FROM upload WHERE library_id = $1", [library])).rows;
    };
    await symlink(app.config.mediaDir, moving);
    expect(await scanned()).toEqual([{ path: path.join(moving, "mine.mp3") }]);
    await rm(moving); // an unmounted disk
    expect(await scanned()).toEqual([{ path: path.join(moving, "mine.mp3") }]);
  });
});

function mkfifo(file: string): void {
  execFileSync("mkfifo", [file]);
}

/** No scan waits or runs (one that failed for good counts as done: scanState). */
async function scanDone(app: TestApp): Promise<boolean> {
  const { rows } = await app.db.pool.query(
    "SELECT coalesce(bool_or(attempts < max_attempts), false) AS waiting FROM graphile_worker.jobs WHERE task_identifier = 'scan_library'",
  );
  return !rows[0].waiting;
}
