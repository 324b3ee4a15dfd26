import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueScan } from "../../core/library/folder-scanner.ts";
import { makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";

// No existence oracles: Alice's private library holds an album; to Bob, her playlists and her account
// must look exactly like something that does not exist, her album's cover stays hers until the library
// is public, and her scans and uploads are none of his business. Her album, its tracks and artist
// through every Subsonic and REST method: test/catalog/visibility-surfaces.test.ts.
describe("what another user's private library shows", () => {
  let app: TestApp;
  let alice: TestClient;
  let bob: Credentials;
  let root: Credentials;
  let aliceCreds: Credentials;
  let library: string;
  const hidden: Record<"track" | "album" | "artist", string> = { track: "", album: "", artist: "" };
  const missing = "00000000-0000-4000-8000-000000000000";
  const as = (who: Credentials, method: string, params: Record<string, string> = {}) =>
    rest(app.url, method, { ...tokenParams(who), f: "json", ...params });

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    root = await subsonicCredentials(new TestClient(app.url), "olga"); // the first account: an administrator
    alice = new TestClient(app.url);
    aliceCreds = await subsonicCredentials(alice, "alice");
    bob = await subsonicCredentials(new TestClient(app.url), "bob");
    library = (await alice.post("/api/v1/libraries", { name: "Diary", privacy: "private" })).body.id;
    await seedTracks(app, library, [{ name: "secret", cover: await makeCoverImage(120, 120, "jpeg"),
      tags: { TITLE: "Secret Song", ARTIST: "Alice Alone", ALBUM: "Private Album", GENRE: "Diarycore" } }]);
    const { rows } = await app.db.pool.query("SELECT t.id AS track, t.album_id AS album, a.album_artist_id AS artist FROM track t JOIN album a ON a.id = t.album_id");
    Object.assign(hidden, rows[0]);
  });
  afterAll(async () => {
    await app?.close();
  });

  it("answers playlists and users through hidden ids and names as through missing ones", async () => {
    const playlist = (await as(aliceCreds, "createPlaylist", { name: "Secret mix", songId: hidden.track })).json.playlist.id;
    const bobs = (await as(bob, "createPlaylist", { name: "Bob's mix" })).json.playlist.id;
    await as(aliceCreds, "scrobble", { id: hidden.track, submission: "false" }); // Alice plays it now
    // [method, params for a value, Alice's hidden value, a value naming nothing]
    const calls: [string, (value: string) => Record<string, string>, string, string][] = [
      ["getPlaylist", (id) => ({ id }), playlist, missing],
      ["deletePlaylist", (id) => ({ id }), playlist, missing],
      ["updatePlaylist", (id) => ({ playlistId: id, name: "Mine now" }), playlist, missing],
      ["updatePlaylist", (id) => ({ playlistId: id, songIndexToRemove: "0" }), playlist, missing],
      ["createPlaylist", (id) => ({ playlistId: id }), playlist, missing],
      ["getUser", (username) => ({ username }), "alice", "nobody"],
    ];
    const comparable = (answer: Awaited<ReturnType<typeof as>>, value: string, by: string) => ({
      status: answer.status,
      // Express's ETag is a hash of the body, which is compared itself (and may name the value).
      headers: Object.fromEntries([...answer.headers].filter(([name]) => !["date", "x-request-id"].includes(name))
        .map(([name, header]) => [name, name === "etag" ? "(hash of the body)" : header])),
      text: answer.text.replaceAll(value, by),
    });
    for (const [method, params, value, none] of calls) {
      const seen = comparable(await as(bob, method, params(value)), value, none);
      expect(seen, `${method} ${JSON.stringify(params(value))}`).toEqual(comparable(await as(bob, method, params(none)), none, none));
    }
    // Nothing of Alice's changed, nothing was made for Bob, and what she plays is hers to know.
    const { rows } = await app.db.pool.query("SELECT p.name, count(i.id)::int AS items FROM playlist p LEFT JOIN playlist_item i ON i.playlist_id = p.id GROUP BY p.id ORDER BY p.name");
    expect(rows).toEqual([{ name: "Bob's mix", items: 0 }, { name: "Secret mix", items: 1 }]);
    expect((await app.db.pool.query("SELECT count(*)::int AS n FROM play_queue")).rows[0].n).toBe(0);
    expect((await as(bob, "getNowPlaying")).json.nowPlaying).toEqual({ entry: [] });
    expect((await as(bob, "getGenres")).json.genres).toEqual({ genre: [] });
    expect((await as(aliceCreds, "getNowPlaying")).json.nowPlaying.entry).toHaveLength(1);
    await as(aliceCreds, "deletePlaylist", { id: playlist });
    await as(bob, "deletePlaylist", { id: bobs });
  });

  it("serves a private album's cover only to who may see the album", async () => {
    const redirect = await alice.get(`/api/v1/albums/${hidden.album}/cover?size=256`);
    expect(redirect.status).toBe(302);
    const url = redirect.headers.get("location")!;
    const own = await alice.get(url);
    expect(own.status).toBe(200);
    expect(own.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
    const hash = /covers\/([0-9a-f]{64})\//.exec(url)![1]!;
    const otherHash = url.replace(hash, "f".repeat(64));
    const bobWeb = new TestClient(app.url);
    await bobWeb.login("bob");
    for (const client of [bobWeb, new TestClient(app.url)]) {
      const seen = await client.get(url);
      expect(seen.status).toBe(404);
      expect(seen.body).toEqual((await client.get(otherHash)).body);
    }
    // Once the library is public, anyone may see the album, and so its cover.
    expect((await alice.request("PATCH", `/api/v1/libraries/${library}`, { json: { privacy: "public" } })).status).toBe(200);
    expect((await new TestClient(app.url).get(url)).status).toBe(200);
    expect((await alice.request("PATCH", `/api/v1/libraries/${library}`, { json: { privacy: "private" } })).status).toBe(200);
  });

  it("reports scans and imports of the caller's own libraries only (an administrator's: all)", async () => {
    await app.worker!.stop(); // so the scan and the upload below stay pending
    await enqueueScan(app.db.pool, library);
    await app.db.pool.query("UPDATE library SET last_scan_at = '2026-01-02T03:04:05Z' WHERE id = $1", [library]);
    const status = async (who: Credentials) => (await as(who, "getScanStatus")).json.scanStatus;
    expect(await status(bob)).toEqual({ scanning: false, count: 0 });
    expect(await status(aliceCreds)).toEqual({ scanning: true, count: 1, lastScan: "2026-01-02T03:04:05.000Z" });
    expect(await status(root)).toEqual({ scanning: true, count: 0, lastScan: "2026-01-02T03:04:05.000Z" });
    await app.db.pool.query("SELECT graphile_worker.remove_job($1)", [`scan:${library}`]);
    await alice.upload(`/api/v1/libraries/${library}/uploads`, [{ name: "x.mp3", data: new Uint8Array(100) }]);
    expect((await status(bob)).scanning).toBe(false);
    expect((await status(aliceCreds)).scanning).toBe(true);
  });
});
