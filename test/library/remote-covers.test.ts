import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { followedRemoteLibrary, localPublicKeys, remoteTrack, startAudioRemote, type AudioMode, type AudioRemote } from "../helpers/remote-audio.ts";
import { rest, tokenParams, type Credentials } from "../subsonic/helpers.ts";

// A remote album's cover is fetched (signed as who asks, images only) the first time someone who sees
// the album asks for it, stored like an imported cover, and from then on served from our copy.

let app: TestApp;
let remote: AudioRemote;
let alice: TestClient;
let aliceFid: string;
let seedLibrary: string;
let remoteLibrary: string;

beforeAll(async () => {
  app = await startTestApp({ env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true", REMOTE_MEDIA_TIMEOUT_SECONDS: "2" } });
  // Migration 0017 (remote scans) adds the column the scan fills; until it is merged, the test adds it.
  await app.db.pool.query("ALTER TABLE album ADD COLUMN IF NOT EXISTS cover_source_url text");
  alice = new TestClient(app.url);
  await alice.signup("alice");
  await new TestClient(app.url).signup("bob");
  aliceFid = (await app.db.pool.query("SELECT a.fid FROM actor a JOIN app_user u ON u.actor_id = a.id WHERE u.username = 'alice'")).rows[0].fid;
  remote = await startAudioRemote(localPublicKeys(app));
  seedLibrary = (await alice.post("/api/v1/libraries", { name: "Seed" })).body.id;
  remoteLibrary = await followedRemoteLibrary(app, remote.origin, ["alice"]);
});

afterAll(async () => {
  await remote?.close();
  await app?.close();
});

/** A remote album (one track) whose cover the stand-in serves at /covers/<name> as `mode` says. */
async function remoteAlbum(name: string, mode: AudioMode): Promise<{ albumId: string; path: string }> {
  remote.modes.set(`/covers/${name}`, mode);
  const { trackId } = await remoteTrack(app, seedLibrary, remoteLibrary, remote.origin, `/audio/${name}`, {
    tags: { TITLE: `${name} song`, ARTIST: "Remote Artist", ALBUM: `Album ${name}` },
  });
  const { rows } = await app.db.pool.query(
    `UPDATE album a SET fid = $2, cover_source_url = $3 FROM track t WHERE t.id = $1 AND a.id = t.album_id RETURNING a.id`,
    [trackId, `${remote.origin}/albums/${name}`, `${remote.origin}/covers/${name}`],
  );
  return { albumId: rows[0].id, path: `/covers/${name}` };
}

describe("covers of remote albums", () => {
  it("are fetched signed by the first who asks, stored in every size, then served from our copy", async () => {
    const image = await makeCoverImage(800, 800, "jpeg");
    const album = await remoteAlbum("first", { kind: "ok", data: image, type: "image/jpeg" });
    const redirect = await alice.get(`/api/v1/albums/${album.albumId}/cover?size=256`);
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get("location")!;
    expect(location).toMatch(/^\/api\/v1\/covers\/[0-9a-f]{64}\/256\.jpg$/);
    const cover = await fetch(new URL(location, app.url), { headers: { cookie: alice.cookie! } });
    expect(cover.status).toBe(200);
    expect(cover.headers.get("content-type")).toBe("image/jpeg");
    expect(remote.hitsOf(album.path)).toEqual([expect.objectContaining({ signedBy: `${aliceFid}#main-key` })]);

    expect((await alice.get(`/api/v1/albums/${album.albumId}/cover?size=600&format=webp`)).headers.get("location")).toMatch(/600\.webp$/);
    const { rows } = await app.db.pool.query("SELECT cover_hash FROM album WHERE id = $1", [album.albumId]);
    expect(location).toContain(rows[0].cover_hash);
    expect(remote.hitsOf(album.path)).toHaveLength(1);
  });

  it("are fetched by Subsonic's getCoverArt too, once for parallel requests", async () => {
    const creds = (await alice.get("/api/v1/me/subsonic")).body as Credentials;
    const image = await makeCoverImage(300, 300, "png");
    const album = await remoteAlbum("subsonic", { kind: "ok", data: image, type: "image/png", chunkBytes: 2048, chunkDelayMs: 10 });
    const answers = await Promise.all([1, 2, 3].map(() => rest(app.url, "getCoverArt", { ...tokenParams(creds), id: album.albumId, size: "64" })));
    for (const answer of answers) {
      expect(answer.type).toBe("image/jpeg");
      expect(answer.bytes.length).toBeGreaterThan(100);
    }
    expect(remote.hitsOf(album.path)).toHaveLength(1);
  });

  it("count as no cover when the remote refuses or sends no image, without asking again at once", async () => {
    for (const [name, mode] of [
      ["refused", { kind: "status", status: 403 }],
      ["html", { kind: "ok", data: Buffer.from("<html></html>"), type: "text/html" }],
      ["broken", { kind: "ok", data: Buffer.from("not really a jpeg"), type: "image/jpeg" }],
    ] as const) {
      const album = await remoteAlbum(name, mode);
      const res = await alice.get(`/api/v1/albums/${album.albumId}/cover`);
      expect(res.status).toBe(404);
      expect(res.body.error.message).toContain("cover");
      expect((await alice.get(`/api/v1/albums/${album.albumId}/cover`)).status).toBe(404);
      expect(remote.hitsOf(album.path)).toHaveLength(1);
    }
  });

  it("are not fetched for someone who does not follow the library", async () => {
    const album = await remoteAlbum("hidden", { kind: "ok", data: await makeCoverImage(100, 100, "jpeg"), type: "image/jpeg" });
    const bob = new TestClient(app.url);
    await bob.login("bob");
    expect((await bob.get(`/api/v1/albums/${album.albumId}/cover`)).body.error.message).toContain("album");
    expect(remote.hitsOf(album.path)).toHaveLength(0);
  });
});
