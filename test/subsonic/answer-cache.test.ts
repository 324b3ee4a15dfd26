import http from "node:http";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GZIP_FROM_BYTES } from "../../server/subsonic/answer-cache.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTrack } from "../helpers/factories.ts";
import { rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";

// Catalog answers are kept between requests (server/subsonic/answer-cache.ts) under the version read
// with the caller's credentials (migration 0011). Every change to what an answer shows must show at
// once, and an answer made for one person must never reach another.
describe("Subsonic answers kept between requests", () => {
  let app: TestApp;
  let aliceClient: TestClient;
  let alice: Credentials;
  let bob: Credentials;
  let library: string;
  let albumId: string;

  const call = (who: Credentials, method: string, params: Record<string, string> = {}) =>
    rest(app.url, method, { ...tokenParams(who), f: "json", ...params });
  const album = async (who: Credentials) => (await call(who, "getAlbum", { id: albumId })).json;
  const upload = (name: string, tags: Record<string, string>) => seedTrack(app, library, { name, tags });
  /** A change made behind the counters' back (triggers off), which a kept answer does not see. */
  const unseen = async (sql: string) => {
    const client = await app.db.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SET LOCAL session_replication_role = replica");
      await client.query(sql);
      await client.query("COMMIT");
    } finally {
      client.release();
    }
  };

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    aliceClient = new TestClient(app.url);
    alice = await subsonicCredentials(aliceClient, "alice");
    bob = await subsonicCredentials(new TestClient(app.url), "bob");
    library = (await aliceClient.post("/api/v1/libraries", { name: "Shared", privacy: "public" })).body.id;
    await upload("one", { ALBUM: "Kept", ALBUMARTIST: "Air", ARTIST: "Air", TITLE: "One", TRACKNUMBER: "1" });
    albumId = (await app.db.pool.query("SELECT id FROM album WHERE title = 'Kept'")).rows[0].id;
  });
  afterAll(async () => {
    await app?.close();
  });

  it("answers again from what it kept, with an ETag, until the catalog changes", async () => {
    const first = await call(alice, "getAlbum", { id: albumId });
    await unseen("UPDATE album SET title = 'Renamed unseen' WHERE title = 'Kept'");
    const again = await call(alice, "getAlbum", { id: albumId });
    expect(again.text).toBe(first.text); // kept: the unseen change does not show
    expect(again.headers.get("etag")).toBe(first.headers.get("etag"));
    const notModified = await fetch(new URL(`/rest/getAlbum?${new URLSearchParams({ ...tokenParams(alice), f: "json", id: albumId })}`, app.url), {
      // fetch would add "cache-control: no-cache" (which asks for the whole answer) to a conditional request.
      headers: { "if-none-match": first.headers.get("etag")!, "cache-control": "max-age=0" },
    });
    expect(notModified.status).toBe(304);
    // The same question in XML is another answer, made now.
    expect((await rest(app.url, "getAlbum", { ...tokenParams(alice), id: albumId })).text).toContain('<album id="' + albumId + '" name="Renamed unseen"');

    // Any real change moves the catalog generation: a renamed track, a new track.
    await app.db.pool.query("UPDATE track SET title = 'One (remastered)' WHERE title = 'One'");
    expect((await album(alice)).album).toMatchObject({ name: "Renamed unseen", song: [expect.objectContaining({ title: "One (remastered)" })] });
    await unseen("UPDATE album SET title = 'Kept' WHERE title = 'Renamed unseen'");
    await upload("two", { ALBUM: "Kept", ALBUMARTIST: "Air", ARTIST: "Air", TITLE: "Two", TRACKNUMBER: "2" });
    expect((await album(alice)).album).toMatchObject({ name: "Kept", songCount: 2 });
    expect((await call(alice, "search3", { query: "two" })).json.searchResult3.song).toEqual([expect.objectContaining({ title: "Two" })]);
  });

  it("gzips kept answers of 16 KB or more for clients that accept it, with an ETag per encoding", async () => {
    const get = (encoding?: string) => new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const url = new URL(`/rest/getAlbum.view?${new URLSearchParams({ ...tokenParams(alice), f: "json", id: albumId })}`, app.url);
      http.get(url, { headers: encoding ? { "accept-encoding": encoding } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk)).on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      }).on("error", reject);
    });
    // A small answer (one song) goes as it is, whatever the client accepts.
    const small = await get("gzip, deflate, br");
    expect(small.body.length).toBeLessThan(GZIP_FROM_BYTES);
    expect(small.headers["content-encoding"]).toBeUndefined();
    expect(JSON.parse(small.body.toString())["subsonic-response"].status).toBe("ok");

    const { rows: [{ title }] } = await app.db.pool.query("SELECT title FROM album WHERE id = $1", [albumId]);
    await app.db.pool.query("UPDATE album SET title = $2 WHERE id = $1", [albumId, "A very long title ".repeat(1000)]);
    try {
      const plain = await get();
      const packed = await get("gzip, deflate, br");
      expect(plain.body.length).toBeGreaterThan(GZIP_FROM_BYTES);
      expect(plain.headers["content-encoding"]).toBeUndefined();
      expect(packed.headers["content-encoding"]).toBe("gzip");
      expect(packed.headers.vary).toMatch(/accept-encoding/i);
      expect(gunzipSync(packed.body).equals(plain.body)).toBe(true);
      expect(packed.body.length).toBeLessThan(plain.body.length);
      expect(packed.headers.etag).not.toBe(plain.headers.etag);
    } finally {
      await app.db.pool.query("UPDATE album SET title = $2 WHERE id = $1", [albumId, title]);
    }
  });

  it("shows the caller's own stars, ratings and plays at once, and only to them", async () => {
    await album(bob); // Bob's answer is kept before Alice's changes
    const songId = (await album(alice)).album.song[0].id as string;
    expect((await call(alice, "star", { albumId })).json.status).toBe("ok");
    expect((await call(alice, "setRating", { id: albumId, rating: "5" })).json.status).toBe("ok");
    expect((await call(alice, "scrobble", { id: songId })).json.status).toBe("ok");
    const mine = (await album(alice)).album;
    expect(mine).toMatchObject({ starred: expect.any(String), userRating: 5, playCount: 1 });
    const bobs = (await album(bob)).album;
    expect(bobs.starred).toBeUndefined();
    expect(bobs).toMatchObject({ userRating: 0, playCount: 0 });
    expect((await call(alice, "unstar", { albumId })).json.status).toBe("ok");
    expect((await album(alice)).album.starred).toBeUndefined();
    expect((await call(alice, "getStarred2")).json.starred2).toEqual({ artist: [], album: [], song: [] });
  });

  it("stops answering someone who may no longer see the library", async () => {
    expect((await album(bob)).status).toBe("ok");
    expect((await call(bob, "getMusicFolders")).json.musicFolders.musicFolder).toHaveLength(1);
    expect((await aliceClient.request("PATCH", `/api/v1/libraries/${library}`, { json: { privacy: "private" } })).status).toBe(200);
    expect((await album(bob)).error).toMatchObject({ code: 70 });
    expect((await call(bob, "getMusicFolders")).json.musicFolders).toEqual({ musicFolder: [] });
    expect((await album(alice)).status).toBe("ok");
  });

  it("draws random album lists afresh each call, from kept albums that show every change", async () => {
    await upload("three", { ALBUM: "Third", ALBUMARTIST: "Air", ARTIST: "Air", TITLE: "Three" });
    await upload("four", { ALBUM: "Fourth", ALBUMARTIST: "Blur", ARTIST: "Blur", TITLE: "Four" });
    const random = async (who = alice) => (await call(who, "getAlbumList2", { type: "random", size: "1" })).json.albumList2.album as Record<string, unknown>[];
    const seen = new Set<unknown>();
    for (let i = 0; i < 40; i++) seen.add((await random())[0]!.name);
    expect([...seen].sort()).toEqual(["Fourth", "Kept", "Third"]); // (2/3)^40 odds of missing one
    expect((await call(alice, "getAlbumList2", { type: "random", size: "10" })).json.albumList2.album).toHaveLength(3);
    expect(await random(bob)).toEqual([]); // the library is private now

    // The kept albums are per version: a rename and Alice's star show in the next draws.
    await app.db.pool.query("UPDATE album SET title = 'Fourth (deluxe)' WHERE title = 'Fourth'");
    const fourth = (await app.db.pool.query("SELECT id FROM album WHERE title = 'Fourth (deluxe)'")).rows[0].id as string;
    expect((await call(alice, "star", { albumId: fourth })).json.status).toBe("ok");
    const all = (await call(alice, "getAlbumList2", { type: "random", size: "10" })).json.albumList2.album as Record<string, unknown>[];
    expect(all.find((a) => a.id === fourth)).toMatchObject({ name: "Fourth (deluxe)", starred: expect.any(String) });
  });
});
