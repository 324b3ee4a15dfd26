import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { apiClient, rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";

describe("Subsonic album lists, genres, stars, ratings and scrobbles", () => {
  let app: TestApp;
  let alice: Credentials;
  const id: Record<string, string> = {};
  const call = (method: string, params: Record<string, string | string[]> = {}) =>
    rest(app.url, method, { ...tokenParams(alice), f: "json", ...params });

  beforeAll(async () => {
    app = await startTestApp();
    const client = new TestClient(app.url);
    alice = await subsonicCredentials(client, "alice");
    const song = (name: string, tags: Record<string, string>) => ({ name, tags });
    const lib = (await client.post("/api/v1/libraries", { name: "Main" })).body.id;
    await seedTracks(app, lib, [
      song("a", { ALBUM: "Abbey Road", ALBUMARTIST: "The Beatles", ARTIST: "The Beatles", TITLE: "Come Together", DATE: "1969", GENRE: "Rock" }),
      song("b", { ALBUM: "Homogenic", ALBUMARTIST: "Björk", ARTIST: "Björk", TITLE: "Jóga", DATE: "1997", GENRE: "Electronic" }),
      song("c", { ALBUM: "Zebra", ALBUMARTIST: "Air", ARTIST: "Air", TITLE: "Zz", DATE: "2004", GENRE: "Electronic" }),
    ]);
    for (const r of (await app.db.pool.query("SELECT id, title FROM track")).rows) id[r.title] = r.id;
    for (const r of (await app.db.pool.query("SELECT id, title FROM album")).rows) id[r.title] = r.id;
    for (const r of (await app.db.pool.query("SELECT id, name FROM artist")).rows) id[r.name] = r.id;
  });
  afterAll(async () => {
    await app?.close();
  });

  const names = (r: { json: any }, list: string) => (r.json[list].album ?? []).map((a: { name: string }) => a.name);

  it("lists albums by name, artist, year, genre and newest, always as arrays", async () => {
    expect(names(await call("getAlbumList2", { type: "alphabeticalByName" }), "albumList2")).toEqual(["Abbey Road", "Homogenic", "Zebra"]);
    expect(names(await call("getAlbumList2", { type: "alphabeticalByArtist" }), "albumList2")).toEqual(["Zebra", "Homogenic", "Abbey Road"]);
    expect(names(await call("getAlbumList2", { type: "byYear", fromYear: "2010", toYear: "1990" }), "albumList2")).toEqual(["Zebra", "Homogenic"]);
    expect(names(await call("getAlbumList2", { type: "byGenre", genre: "Rock" }), "albumList2")).toEqual(["Abbey Road"]);
    expect(names(await call("getAlbumList2", { type: "newest", size: "1" }), "albumList2")).toHaveLength(1);
    expect(names(await call("getAlbumList2", { type: "random" }), "albumList2").sort()).toEqual(["Abbey Road", "Homogenic", "Zebra"]);
    const folderList = await call("getAlbumList", { type: "alphabeticalByName", size: "1" });
    expect(folderList.json.albumList.album).toEqual([expect.objectContaining({ id: id["Abbey Road"], isDir: true, title: "Abbey Road" })]);
    expect((await call("getAlbumList2", { type: "frequent" })).json.albumList2).toEqual({ album: [] });
    const xml = await rest(app.url, "getAlbumList2", { ...tokenParams(alice), type: "byGenre", genre: "Rock" });
    expect(xml.text).toMatch(/<albumList2><album [^>]*name="Abbey Road"[^>]*>.*<\/album><\/albumList2>/s);
    expect(xml.text.match(/<album /g)).toHaveLength(1);
  });

  it("answers missing and bad list parameters with the right codes", async () => {
    expect((await call("getAlbumList2")).json.error.code).toBe(10);
    expect((await call("getAlbumList2", { type: "loudest" })).json.error.code).toBe(0);
    expect((await call("getAlbumList2", { type: "byYear" })).json.error.code).toBe(10);
  });

  it("stars and unstars songs, albums and artists, and lists them", async () => {
    expect((await call("star", { id: id["Jóga"]!, albumId: id["Abbey Road"]!, artistId: id["Air"]! })).json.status).toBe("ok");
    const starred = (await call("getStarred2")).json.starred2;
    expect(starred.song.map((s: { title: string }) => s.title)).toEqual(["Jóga"]);
    expect(starred.album.map((a: { name: string }) => a.name)).toEqual(["Abbey Road"]);
    expect(starred.artist.map((a: { name: string }) => a.name)).toEqual(["Air"]);
    expect(starred.song[0].starred).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(names(await call("getAlbumList2", { type: "starred" }), "albumList2")).toEqual(["Abbey Road"]);
    await call("unstar", { id: id["Jóga"]! });
    expect((await call("getStarred")).json.starred.song).toEqual([]);
    expect((await call("star", { id: "00000000-0000-4000-8000-000000000000" })).json.error.code).toBe(70);
    expect((await call("star")).json.error.code).toBe(10);
  });

  it("rates 1-5, clears with 0, and feeds the highest list", async () => {
    await call("setRating", { id: id["Homogenic"]!, rating: "5" });
    await call("setRating", { id: id["Zebra"]!, rating: "3" });
    expect(names(await call("getAlbumList2", { type: "highest" }), "albumList2")).toEqual(["Homogenic", "Zebra"]);
    await call("setRating", { id: id["Zebra"]!, rating: "0" });
    expect(names(await call("getAlbumList2", { type: "highest" }), "albumList2")).toEqual(["Homogenic"]);
    expect((await call("setRating", { id: id["Zebra"]!, rating: "9" })).json.error.code).toBe(0);
    const song = await apiClient(app.url, { username: alice.username, password: alice.password }).getSong({ id: id["Jóga"]! });
    expect(song.song.userRating).toBeUndefined();
  });

  it("counts submitted scrobbles, not now-playing ones, and feeds recent and frequent", async () => {
    await call("scrobble", { id: id["Come Together"]!, submission: "false" });
    expect((await call("getSong", { id: id["Come Together"]! })).json.song.playCount).toBe(0);
    await call("scrobble", { id: [id["Come Together"]!, id["Zz"]!], time: [String(Date.now() - 60_000), String(Date.now())] });
    await call("scrobble", { id: id["Come Together"]! });
    expect((await call("getSong", { id: id["Come Together"]! })).json.song.playCount).toBe(2);
    expect(names(await call("getAlbumList2", { type: "frequent" }), "albumList2")).toEqual(["Abbey Road", "Zebra"]);
    expect(names(await call("getAlbumList2", { type: "recent" }), "albumList2")).toEqual(["Abbey Road", "Zebra"]);
  });

  // getAlbum sums an album's counts, plays and genres from the tracks it lists, in one statement;
  // lists read them per album in SQL. Both must tell the same, stars, ratings and plays included.
  it("shows an album in getAlbum exactly as in the album lists", async () => {
    await call("star", { albumId: id["Abbey Road"]! });
    await call("setRating", { id: id["Homogenic"]!, rating: "4" });
    const listed = (await call("getAlbumList2", { type: "alphabeticalByName" })).json.albumList2.album as { id: string; played?: string }[];
    expect(listed.find((a) => a.id === id["Abbey Road"])?.played).toMatch(/^\d{4}-/);
    for (const entry of listed) {
      const { song, ...album } = (await call("getAlbum", { id: entry.id })).json.album;
      expect(album).toEqual(entry);
      expect(song).toHaveLength(album.songCount);
    }
  });

  it("lists genres with text values and songs by genre and at random", async () => {
    const genres = (await call("getGenres")).json.genres.genre;
    expect(genres).toEqual([
      { value: "Electronic", songCount: 2, albumCount: 2 },
      { value: "Rock", songCount: 1, albumCount: 1 },
    ]);
    const xml = await rest(app.url, "getGenres", tokenParams(alice));
    expect(xml.text).toContain('<genre songCount="1" albumCount="1">Rock</genre>');
    const byGenre = (await call("getSongsByGenre", { genre: "Electronic" })).json.songsByGenre.song;
    expect(byGenre.map((s: { title: string }) => s.title)).toEqual(["Jóga", "Zz"]);
    const random = (await call("getRandomSongs", { size: "2" })).json.randomSongs.song;
    expect(random).toHaveLength(2);
  });
});
