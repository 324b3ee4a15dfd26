import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { apiClient, rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";

describe("Subsonic playlists", () => {
  let app: TestApp;
  let alice: Credentials;
  let bob: Credentials;
  const id: Record<string, string> = {};
  const as = (who: Credentials, method: string, params: Record<string, string | string[]> = {}) =>
    rest(app.url, method, { ...tokenParams(who), f: "json", ...params });

  beforeAll(async () => {
    app = await startTestApp();
    const client = new TestClient(app.url);
    alice = await subsonicCredentials(client, "alice");
    bob = await subsonicCredentials(new TestClient(app.url), "bob");
    const lib = (await client.post("/api/v1/libraries", { name: "Main", privacy: "instance" })).body.id;
    await seedTracks(app, lib, ["One", "Two", "Three"].map((title) => ({ tags: { TITLE: title, ARTIST: "Band", ALBUM: "Numbers" } })));
    // Alice's private song: Bob may not see it, nor learn that it exists.
    const secret = (await client.post("/api/v1/libraries", { name: "Secret", privacy: "private" })).body.id;
    await seedTracks(app, secret, [{ tags: { TITLE: "Hidden", ARTIST: "Alice", ALBUM: "Diary" } }]);
    for (const r of (await app.db.pool.query("SELECT id, title FROM track")).rows) id[r.title] = r.id;
  });
  afterAll(async () => {
    await app?.close();
  });

  const titles = (playlist: { entry?: { title: string }[] }) => (playlist.entry ?? []).map((e) => e.title);

  it("creates a playlist with songs (duplicates allowed) and returns it", async () => {
    const res = await as(alice, "createPlaylist", { name: "Mix", songId: [id.One!, id.Two!, id.One!] });
    expect(res.json.status).toBe("ok");
    expect(res.json.playlist).toMatchObject({ name: "Mix", owner: "alice", public: false, songCount: 3 });
    expect(titles(res.json.playlist)).toEqual(["One", "Two", "One"]);
    id.mix = res.json.playlist.id;
    const listed = await apiClient(app.url, { username: alice.username, password: alice.password }).getPlaylists();
    expect(listed.playlists.playlist?.map((p) => p.name)).toEqual(["Mix"]);
  });

  it("replaces the songs when createPlaylist names an existing playlist", async () => {
    const res = await as(alice, "createPlaylist", { playlistId: id.mix!, songId: [id.Three!] });
    expect(titles(res.json.playlist)).toEqual(["Three"]);
    expect(res.json.playlist.id).toBe(id.mix);
  });

  it("updates name, comment, visibility, and adds and removes songs by index", async () => {
    await as(alice, "updatePlaylist", { playlistId: id.mix!, songIdToAdd: [id.One!, id.Two!] });
    await as(alice, "updatePlaylist", { playlistId: id.mix!, name: "Renamed", comment: "for the road", public: "true", songIndexToRemove: ["0", "2"] });
    const { playlist } = (await as(alice, "getPlaylist", { id: id.mix! })).json;
    expect(playlist).toMatchObject({ name: "Renamed", comment: "for the road", public: true, songCount: 1 });
    expect(titles(playlist)).toEqual(["One"]);
    const xml = await rest(app.url, "getPlaylist", { ...tokenParams(alice), id: id.mix! });
    expect(xml.text.match(/<entry /g)).toHaveLength(1);
  });

  it("keeps others out: reading a shared playlist is fine, changing it is not", async () => {
    expect((await as(bob, "getPlaylist", { id: id.mix! })).json.playlist.name).toBe("Renamed");
    expect((await as(bob, "updatePlaylist", { playlistId: id.mix!, name: "Mine" })).json.error.code).toBe(50);
    expect((await as(bob, "deletePlaylist", { id: id.mix! })).json.error.code).toBe(50);
    expect((await as(alice, "updatePlaylist", { playlistId: id.mix!, songIndexToRemove: "7" })).json.error.code).toBe(0);
    expect((await as(alice, "createPlaylist", {})).json.error.code).toBe(10);
  });

  it("refuses a song the caller cannot see like a missing one (70), creating and changing nothing", async () => {
    const missing = "00000000-0000-4000-8000-000000000000";
    const playlistsOf = async (who: string) =>
      (await app.db.pool.query("SELECT p.name FROM playlist p JOIN app_user u ON u.id = p.owner_id WHERE u.username = $1", [who])).rows;
    const before = await playlistsOf("bob");
    const hidden = await as(bob, "createPlaylist", { name: "Sneaky", songId: [id.One!, id.Hidden!] });
    const absent = await as(bob, "createPlaylist", { name: "Sneaky", songId: [id.One!, missing] });
    expect(hidden.json.error).toEqual({ code: 70, message: "The track was not found" });
    expect(hidden.text).toBe(absent.text);
    expect(await playlistsOf("bob")).toEqual(before);

    const own = (await as(bob, "createPlaylist", { name: "Bob's", songId: [id.Two!] })).json.playlist.id;
    for (const songId of [id.Hidden!, missing]) {
      const answer = await as(bob, "updatePlaylist", { playlistId: own, name: "Changed", songIndexToRemove: "0", songIdToAdd: songId });
      expect(answer.json.error).toEqual({ code: 70, message: "The track was not found" });
      const replaced = await as(bob, "createPlaylist", { playlistId: own, songId });
      expect(replaced.json.error).toEqual({ code: 70, message: "The track was not found" });
    }
    const { playlist } = (await as(bob, "getPlaylist", { id: own })).json;
    expect([playlist.name, titles(playlist)]).toEqual(["Bob's", ["Two"]]);
  });

  it("deletes a playlist", async () => {
    expect((await as(alice, "deletePlaylist", { id: id.mix! })).json.status).toBe("ok");
    expect((await as(alice, "getPlaylist", { id: id.mix! })).json.error.code).toBe(70);
    expect((await as(alice, "getPlaylists")).json.playlists).toEqual({ playlist: [] });
  });
});
