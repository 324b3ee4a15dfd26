import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { seedFeatures } from "../helpers/analysis.ts";
import { rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";

// Smart playlists and "more like this" as Subsonic clients see them: read-only playlists with their
// current songs, and getSimilarSongs(2) from audio features.

describe("Subsonic smart playlists and similar songs", () => {
  let app: TestApp;
  let alice: Credentials;
  let bob: Credentials;
  let web: TestClient;
  const id: Record<string, string> = {};
  const as = (who: Credentials, method: string, params: Record<string, string | string[]> = {}) =>
    rest(app.url, method, { ...tokenParams(who), f: "json", ...params });
  const titles = (list: { entry?: { title: string }[]; song?: { title: string }[] }) => (list.entry ?? list.song ?? []).map((e) => e.title);

  beforeAll(async () => {
    app = await startTestApp();
    web = new TestClient(app.url);
    alice = await subsonicCredentials(web, "alice");
    bob = await subsonicCredentials(new TestClient(app.url), "bob");
    const lib = (await web.post("/api/v1/libraries", { name: "Mine", privacy: "private" })).body.id;
    const songs: [string, string, number, number][] = [
      // title, album, tempo, energy
      ["Calm", "Quiet", 70, 0.2],
      ["Still", "Quiet", 75, 0.25],
      ["Steady", "Middle", 110, 0.5],
      ["Drive", "Loud", 150, 0.85],
      ["Rush", "Loud", 160, 0.9],
    ];
    const seeded = await seedTracks(app, lib, songs.map(([TITLE, ALBUM]) => ({ tags: { TITLE, ALBUM, ARTIST: "Band" } })));
    for (const [i, [title, album, tempoBpm, energy]] of songs.entries()) {
      id[title] = seeded[i]!.trackId;
      await seedFeatures(app.db.pool, seeded[i]!.trackId, { tempoBpm, energy, danceability: energy, loudnessLufs: -20 + energy * 12 });
      id[album] = (await app.db.pool.query("SELECT album_id FROM track WHERE id = $1", [seeded[i]!.trackId])).rows[0].album_id;
    }
    const smart = await web.post("/api/v1/playlists", { name: "Energetic", rules: { energy: { min: 0.5 }, sort: { by: "energy", order: "desc" } } });
    id.smart = smart.body.id;
  });
  afterAll(async () => {
    await app?.close();
  });

  it("lists a smart playlist, read-only, with its current songs", async () => {
    const list = (await as(alice, "getPlaylists")).json.playlists.playlist;
    expect(list).toEqual([expect.objectContaining({ id: id.smart, name: "Energetic", readonly: true, public: false, songCount: 3 })]);
    const { playlist } = (await as(alice, "getPlaylist", { id: id.smart! })).json;
    expect(playlist).toMatchObject({ readonly: true, songCount: 3 });
    expect(titles(playlist)).toEqual(["Rush", "Drive", "Steady"]);
    // Another account sees nothing of it.
    expect((await as(bob, "getPlaylist", { id: id.smart! })).json.error.code).toBe(70);
    expect((await as(bob, "getPlaylists")).json.playlists.playlist ?? []).toEqual([]);
  });

  it("refuses every change of a smart playlist with 50, changing nothing", async () => {
    const changes: Record<string, string>[] = [{ songIdToAdd: id.Calm! }, { songIndexToRemove: "0" }, { name: "Renamed" }];
    for (const params of changes) {
      const answer = await as(alice, "updatePlaylist", { playlistId: id.smart!, ...params });
      expect(answer.json.error.code, JSON.stringify(params)).toBe(50);
    }
    expect((await as(alice, "createPlaylist", { playlistId: id.smart!, songId: id.Calm! })).json.error.code).toBe(50);
    const { playlist } = (await as(alice, "getPlaylist", { id: id.smart! })).json;
    expect([playlist.name, titles(playlist)]).toEqual(["Energetic", ["Rush", "Drive", "Steady"]]);
  });

  it("answers getSimilarSongs for a song, nearest first, and for an album by its songs together", async () => {
    const song = (await as(alice, "getSimilarSongs", { id: id.Calm!, count: "3" })).json;
    expect(titles(song.similarSongs)).toEqual(["Still", "Steady", "Drive"]);
    // The Loud album's songs averaged: its own songs left out.
    const album = (await as(alice, "getSimilarSongs", { id: id.Loud! })).json;
    expect(titles(album.similarSongs)).toEqual(["Steady", "Still", "Calm"]);
    const artist = (await as(alice, "getSimilarSongs2", { id: (await web.get(`/api/v1/tracks/${id.Calm}`)).body.artists[0].id })).json;
    expect(artist.similarSongs2).toEqual({ song: [] });
    // Hidden and missing alike: 70.
    expect((await as(bob, "getSimilarSongs", { id: id.Calm! })).json.error.code).toBe(70);
    expect((await as(alice, "getSimilarSongs", { id: "00000000-0000-4000-8000-000000000000" })).json.error.code).toBe(70);
  });
});
