import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCoverImage, type AudioFormat, type TagValues } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks, type TrackSeed } from "../helpers/factories.ts";

const UUID = expect.stringMatching(/^[0-9a-f-]{36}$/);

type Group = "artists" | "albums" | "tracks" | "playlists";
const search = (client: TestClient, q: string, extra = "") => client.get(`/api/v1/search?q=${encodeURIComponent(q)}${extra}`);
/** Names (or titles) of one group of a search, best first. */
async function found(client: TestClient, q: string, group: Group): Promise<string[]> {
  const res = await search(client, q);
  expect(res.status).toBe(200);
  return res.body[group].map((item: { name?: string; title?: string }) => item.name ?? item.title);
}

describe("search", () => {
  let app: TestApp;
  let alice: TestClient;
  let bob: TestClient;
  const anonymous = () => new TestClient(app.url);

  function song(name: string, format: AudioFormat, tags: TagValues, cover?: Buffer): TrackSeed {
    return { name, format, tags, cover };
  }
  async function library(client: TestClient, name: string, privacy: string, seeds: TrackSeed[]) {
    const id = (await client.post("/api/v1/libraries", { name, privacy })).body.id;
    expect(await seedTracks(app, id, seeds)).toHaveLength(seeds.length);
    return id;
  }

  beforeAll(async () => {
    app = await startTestApp();
    alice = new TestClient(app.url);
    bob = new TestClient(app.url);
    await alice.signup("alice");
    await bob.signup("bob");
    const kidA = { ALBUM: "Kid A", ALBUMARTIST: "Radiohead", ARTIST: "Radiohead", DATE: "2000" };
    const help = { ALBUM: "Help!", ALBUMARTIST: "The Beatles", ARTIST: "The Beatles", DATE: "1965" };
    await library(alice, "Shared", "public", [
      song("kida1", "flac", { ...kidA, TITLE: "Everything in Its Right Place", TRACKNUMBER: "1" }, await makeCoverImage(300, 300, "jpeg")),
      song("kida3", "ogg", { ...kidA, TITLE: "The National Anthem", TRACKNUMBER: "3" }),
      song("post", "mp3", { ALBUM: "Post", ARTIST: "Björk", DATE: "1995", TITLE: "Hyperballad", TRACKNUMBER: "6" }),
      song("takk", "opus", { ALBUM: "Takk...", ARTIST: "Sigur Rós", DATE: "2005", TITLE: "Hoppípolla", TRACKNUMBER: "2" }),
      song("help1", "mp3", { ...help, TITLE: "Help!", TRACKNUMBER: "1" }),
      song("help13", "m4a", { ...help, TITLE: "Yesterday", TRACKNUMBER: "13" }),
      song("rhonda", "mp3", { ALBUM: "Summer Days", ARTIST: "The Beach Boys", TITLE: "Help Me Rhonda", DATE: "1965" }),
    ]);
    await library(alice, "Mine", "private", [
      song("secret", "mp3", { ALBUM: "Private Album", ARTIST: "Hidden Artist", TITLE: "Secret Song" }),
    ]);
    await library(bob, "Office", "instance", [
      song("tune", "mp3", { ALBUM: "Office Hours", ARTIST: "Intranet Band", TITLE: "Instance Tune" }),
    ]);
    await alice.post("/api/v1/playlists", { name: "Road Trip Mix", privacy: "public", description: "songs for the motorway" });
    await alice.post("/api/v1/playlists", { name: "Secret Playlist", privacy: "private" });
    await bob.post("/api/v1/playlists", { name: "Instance Picks", privacy: "instance" });
  });
  afterAll(async () => {
    await app?.close();
  });

  it("forgives typos and missing accents", async () => {
    expect((await found(alice, "beatels", "artists"))[0]).toBe("The Beatles");
    expect((await found(alice, "bjork", "artists"))[0]).toBe("Björk");
    expect((await found(alice, "sigur ros", "artists"))[0]).toBe("Sigur Rós");
    expect((await found(alice, "hoppipolla", "tracks"))[0]).toBe("Hoppípolla");
    expect((await found(alice, "radiohaed", "artists"))[0]).toBe("Radiohead");
    expect((await found(alice, "SIGUR RÓS", "artists"))[0]).toBe("Sigur Rós");
  });

  it("matches as you type, on names and on the credited artists", async () => {
    expect((await found(alice, "radioh", "artists"))[0]).toBe("Radiohead");
    expect((await found(alice, "radioh", "albums"))[0]).toBe("Kid A");
    expect((await found(alice, "radioh", "tracks")).sort()).toEqual(["Everything in Its Right Place", "The National Anthem"]);
    expect((await found(alice, "the national ant", "tracks"))[0]).toBe("The National Anthem");
    expect(await found(alice, "kid a radiohead", "albums")).toEqual(["Kid A"]);
    expect(await found(alice, "bjork hyper", "tracks")).toEqual(["Hyperballad"]);
  });

  it("ranks the best match first: the whole name, then names containing it, then artists' music", async () => {
    expect(await found(alice, "help", "tracks")).toEqual(["Help!", "Help Me Rhonda"]);
    expect((await found(alice, "help", "albums"))[0]).toBe("Help!");
    expect((await found(alice, "beatles", "tracks")).sort()).toEqual(["Help!", "Yesterday"]);
    // Every word found ranks above a typo-close name.
    expect(await found(alice, "the beatles", "artists")).toEqual(["The Beatles", "The Beach Boys"]);
  });

  it("answers every group, each item shaped for display, at most `limit` of each", async () => {
    const res = await search(alice, "hyperballad");
    expect(Object.keys(res.body)).toEqual(["artists", "albums", "tracks", "playlists"]);
    expect(res.body.tracks[0]).toEqual({
      id: UUID, title: "Hyperballad", artists: [{ id: UUID, name: "Björk", joinPhrase: "" }], album: { id: UUID, title: "Post" },
      year: 1995, discNumber: 1, trackNumber: 6, durationMs: expect.any(Number), coverUrl: null,
    });
    expect(res.body.tracks[0].durationMs).toBeGreaterThan(1000);
    const kidA = (await search(alice, "kid a")).body.albums[0];
    expect(kidA).toEqual({ id: UUID, title: "Kid A", artists: [{ id: UUID, name: "Radiohead", joinPhrase: "" }], year: 2000,
      compilation: false, coverUrl: `/api/v1/albums/${kidA.id}/cover` });
    expect((await alice.request("GET", kidA.coverUrl)).status).toBe(302);
    expect((await search(alice, "bjork")).body.artists[0]).toEqual({ id: UUID, name: "Björk", musicBrainzId: null });
    const one = await search(alice, "help", "&limit=1");
    expect(one.body.tracks.map((t: { title: string }) => t.title)).toEqual(["Help!"]);
    expect(one.body.artists.length).toBeLessThanOrEqual(1);
    expect(await search(alice, "zzzqqq")).toMatchObject({ status: 200, body: { artists: [], albums: [], tracks: [], playlists: [] } });
    expect((await search(alice, "!!!")).body).toEqual({ artists: [], albums: [], tracks: [], playlists: [] });
  });

  it("shows music only from libraries the viewer may see", async () => {
    expect(await found(alice, "secret song", "tracks")).toEqual(["Secret Song"]);
    expect(await found(alice, "hidden artist", "artists")).toEqual(["Hidden Artist"]);
    expect(await found(alice, "private album", "albums")).toEqual(["Private Album"]);
    for (const client of [bob, anonymous()]) {
      expect(await found(client, "secret song", "tracks")).toEqual([]);
      expect(await found(client, "hidden artist", "artists")).toEqual([]);
      expect(await found(client, "private album", "albums")).toEqual([]);
    }
    expect(await found(alice, "instance tune", "tracks")).toEqual(["Instance Tune"]);
    expect(await found(alice, "intranet", "artists")).toEqual(["Intranet Band"]);
    expect(await found(anonymous(), "instance tune", "tracks")).toEqual([]);
    expect(await found(anonymous(), "intranet", "artists")).toEqual([]);
    expect(await found(anonymous(), "hyperballad", "tracks")).toEqual(["Hyperballad"]);
  });

  it("finds playlists: your own, instance ones when signed in, public ones for anyone", async () => {
    const road = (await search(anonymous(), "road trip")).body.playlists;
    expect(road).toEqual([{ id: UUID, name: "Road Trip Mix", description: "songs for the motorway", privacy: "public",
      owner: { id: UUID, username: "alice" }, itemCount: 0 }]);
    expect(await found(alice, "secret playlist", "playlists")).toEqual(["Secret Playlist"]);
    expect(await found(bob, "secret playlist", "playlists")).toEqual([]);
    expect(await found(alice, "instance picks", "playlists")).toEqual(["Instance Picks"]);
    expect(await found(anonymous(), "instance picks", "playlists")).toEqual([]);
    expect(await found(alice, "motorway", "playlists")).toEqual(["Road Trip Mix"]);
  });

  it("refuses an empty, blank or too long query and a bad limit, naming the parameter", async () => {
    for (const query of ["", "?q=", "?q=%20%20%20", `?q=${"a".repeat(201)}`]) {
      const res = await alice.get(`/api/v1/search${query}`);
      expect([query, res.status, res.body.error.code]).toEqual([query, 400, "invalid"]);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(["q"]);
    }
    for (const limit of ["0", "51", "ten"]) {
      const res = await search(alice, "help", `&limit=${limit}`);
      expect([limit, res.status, res.body.error.details[0].path]).toEqual([limit, 400, "limit"]);
    }
    expect((await search(alice, `  ${"a".repeat(199)}  `)).status).toBe(200);
  });
});
