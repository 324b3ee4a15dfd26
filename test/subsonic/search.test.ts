import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { apiClient, rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";

describe("Subsonic search2 and search3", () => {
  let app: TestApp;
  let alice: Credentials;
  const search = (params: Record<string, string>) => rest(app.url, "search3", { ...tokenParams(alice), f: "json", ...params });

  beforeAll(async () => {
    app = await startTestApp();
    const client = new TestClient(app.url);
    alice = await subsonicCredentials(client, "alice");
    const lib = (await client.post("/api/v1/libraries", { name: "Main" })).body.id;
    const songs = [
      { ALBUM: "Abbey Road", ALBUMARTIST: "The Beatles", ARTIST: "The Beatles", TITLE: "Come Together" },
      { ALBUM: "Homogenic", ALBUMARTIST: "Björk", ARTIST: "Björk", TITLE: "Jóga" },
      { ALBUM: "Takk...", ALBUMARTIST: "Sigur Rós", ARTIST: "Sigur Rós", TITLE: "Hoppípolla" },
    ];
    await seedTracks(app, lib, songs.map((tags, i) => ({ name: String(i), tags })));
  });
  afterAll(async () => {
    await app?.close();
  });

  const names = (r: { json: any }) => ({
    artist: (r.json.searchResult3.artist ?? []).map((a: { name: string }) => a.name),
    album: (r.json.searchResult3.album ?? []).map((a: { name: string }) => a.name),
    song: (r.json.searchResult3.song ?? []).map((s: { title: string }) => s.title),
  });

  it("forgives typos, missing accents and a trailing *", async () => {
    expect(names(await search({ query: "beatels" })).artist).toEqual(["The Beatles"]);
    expect(names(await search({ query: "bjork" })).album).toEqual(["Homogenic"]);
    expect(names(await search({ query: "hoppipolla*" })).song).toEqual(["Hoppípolla"]);
  });

  it("lists everything for an empty query, in a stable order clients can page through", async () => {
    for (const query of ["", '""']) {
      expect(names(await search({ query }))).toEqual({
        artist: ["Björk", "Sigur Rós", "The Beatles"],
        album: ["Abbey Road", "Homogenic", "Takk..."],
        song: ["Come Together", "Hoppípolla", "Jóga"],
      });
    }
    const page = names(await search({ query: "", songCount: "1", songOffset: "1", artistCount: "0", albumCount: "0" }));
    expect(page).toEqual({ artist: [], album: [], song: ["Hoppípolla"] });
  });

  it("answers through a client library and in search2 form", async () => {
    const viaClient = await apiClient(app.url, { username: alice.username, password: alice.password }).search3({ query: "sigur ros" });
    expect(viaClient.searchResult3.artist?.map((a) => a.name)).toEqual(["Sigur Rós"]);
    const old = await rest(app.url, "search2", { ...tokenParams(alice), f: "json", query: "joga" });
    expect(old.json.searchResult2.song.map((s: { title: string }) => s.title)).toEqual(["Jóga"]);
    expect((await search({ query: "x", songCount: "-1" })).json.error.code).toBe(0);
  });
});
