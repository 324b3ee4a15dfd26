import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { coverFilePath } from "../../core/media/artwork.ts";
import { musicFolderId } from "../../core/subsonic/catalog.queries.ts";
import { makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { apiClient, rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";

describe("Subsonic browsing, streaming and covers", () => {
  let app: TestApp;
  let alice: Credentials;
  let bob: Credentials;
  let privateLib: string;
  const id: Record<string, string> = {};

  beforeAll(async () => {
    app = await startTestApp();
    const aliceClient = new TestClient(app.url);
    alice = await subsonicCredentials(aliceClient, "alice");
    bob = await subsonicCredentials(new TestClient(app.url), "bob");
    const cover = await makeCoverImage(200, 200, "jpeg");
    const song = (name: string, format: "mp3" | "flac", tags: Record<string, string>, withCover = false) => ({
      name, format, tags, ...(withCover ? { cover } : {}),
    });
    const beatles = { ALBUM: "Abbey Road", ALBUMARTIST: "The Beatles", ARTIST: "The Beatles", DATE: "1969", GENRE: "Rock" };
    const publicLib = (await aliceClient.post("/api/v1/libraries", { name: "Shared", privacy: "public" })).body.id;
    privateLib = (await aliceClient.post("/api/v1/libraries", { name: "Mine" })).body.id;
    await seedTracks(app, publicLib, [
      song("abbey2", "mp3", { ...beatles, TITLE: "Something", TRACKNUMBER: "2" }, true),
      song("abbey1", "mp3", { ...beatles, TITLE: "Come Together", TRACKNUMBER: "1", REPLAYGAIN_TRACK_GAIN: "-6.5 dB" }, true),
      song("homo", "flac", { ALBUM: "Homogenic", ALBUMARTIST: "Björk", ARTIST: "Björk", TITLE: "Jóga", TRACKNUMBER: "1" }),
      song("pac", "mp3", { ALBUM: "Me Against the World", ALBUMARTIST: "2Pac", ARTIST: "2Pac", TITLE: "Dear Mama" }),
    ]);
    await seedTracks(app, privateLib, [
      song("demo", "mp3", { ALBUM: "Demos", ALBUMARTIST: "Los Lobos", ARTIST: "Los Lobos", TITLE: "Secret Song" }),
    ]);
    for (const r of (await app.db.pool.query("SELECT id, title AS name FROM track UNION ALL SELECT id, title FROM album UNION ALL SELECT id, name FROM artist")).rows) {
      id[r.name] = r.id;
    }
  });
  afterAll(async () => {
    await app?.close();
  });

  const json = async (who: Credentials, method: string, params: Record<string, string> = {}) =>
    (await rest(app.url, method, { ...tokenParams(who), f: "json", ...params })).json;

  it("indexes album artists by first letter without leading articles", async () => {
    const artists = (await apiClient(app.url, { apiKey: alice.apiKey }).getArtists()).artists;
    expect(artists.ignoredArticles).toBe("The El La Los Las Le Les");
    const index = artists.index?.map((i) => [i.name, i.artist?.map((a) => a.name)]);
    expect(index).toEqual([["#", ["2Pac"]], ["B", ["The Beatles", "Björk"]], ["L", ["Los Lobos"]]]);
    const bobs = await json(bob, "getArtists");
    expect(bobs.artists.index.map((i: { name: string }) => i.name)).toEqual(["#", "B"]);
    const onlyPrivate = await json(alice, "getArtists", { musicFolderId: String(musicFolderId(privateLib)) });
    expect(onlyPrivate.artists.index).toEqual([{ name: "L", artist: [expect.objectContaining({ name: "Los Lobos", albumCount: 1 })] }]);
    expect((await json(alice, "getArtists", { musicFolderId: "12" })).error.code).toBe(70);
    const xml = await rest(app.url, "getArtists", tokenParams(bob));
    expect(xml.text).toContain('<artists ignoredArticles="The El La Los Las Le Les"><index name="#"><artist id=');
  });

  it("serves an artist with its albums and an album with its songs, typed as clients expect", async () => {
    const artist = (await json(bob, "getArtist", { id: id["The Beatles"]! })).artist;
    expect(artist).toMatchObject({ id: id["The Beatles"], name: "The Beatles", albumCount: 1, coverArt: id["Abbey Road"], musicBrainzId: "" });
    expect(artist.album).toEqual([expect.objectContaining({ name: "Abbey Road", songCount: 2, year: 1969, genres: [{ name: "Rock" }] })]);
    const album = (await apiClient(app.url, { username: "bob", password: bob.password }).getAlbum({ id: id["Abbey Road"]! })).album;
    expect(album).toMatchObject({ id: id["Abbey Road"], name: "Abbey Road", artist: "The Beatles", songCount: 2, isCompilation: false, userRating: 0 });
    expect(album.artists).toEqual([{ id: id["The Beatles"], name: "The Beatles" }]);
    expect(album.song?.map((s) => s.title)).toEqual(["Come Together", "Something"]);
    const song = album.song![0]!;
    expect(song).toMatchObject({
      id: id["Come Together"], parent: id["Abbey Road"], isDir: false, track: 1, year: 1969, genre: "Rock",
      contentType: "audio/mpeg", suffix: "mp3", type: "music", mediaType: "song", isVideo: false, playCount: 0,
      genres: [{ name: "Rock" }], artists: [{ id: id["The Beatles"], name: "The Beatles" }], displayArtist: "The Beatles",
      albumArtists: [{ id: id["The Beatles"], name: "The Beatles" }], coverArt: id["Abbey Road"], replayGain: { trackGain: -6.5 },
      samplingRate: 44100, channelCount: 2, musicBrainzId: "",
    });
    for (const key of ["duration", "bitRate", "size"] as const) expect(Number.isInteger(song[key])).toBe(true);
    expect(song.path).toBeUndefined();
  });

  it("renders a one-song album as an array in JSON and one repeated element in XML", async () => {
    const album = (await json(bob, "getAlbum", { id: id["Homogenic"]! })).album;
    expect(album.song).toHaveLength(1);
    expect(album.song[0]).toMatchObject({ title: "Jóga", suffix: "flac", bitDepth: 16, samplingRate: 44100, replayGain: {} });
    expect(album.genres).toEqual([]);
    expect(album.coverArt).toBeUndefined();
    const xml = (await rest(app.url, "getAlbum.view", { ...tokenParams(bob), id: id["Homogenic"]! })).text;
    expect(xml.match(/<song /g)).toHaveLength(1);
    expect(xml).toMatch(/<album id="[^"]+" name="Homogenic"[^>]*><artists [^>]*\/><song [^>]*title="Jóga"[^>]*><artists id=[^>]*\/>.*<replayGain\/><\/song><\/album>/);
  });

  it("serves one song, and answers 70 for unknown, malformed and private ids", async () => {
    expect((await json(alice, "getSong", { id: id["Secret Song"]! })).song).toMatchObject({ title: "Secret Song", artist: "Los Lobos" });
    expect((await json(bob, "getSong", { id: id["Secret Song"]! })).error.code).toBe(70);
    expect((await json(bob, "getAlbum", { id: id["Demos"]! })).error.code).toBe(70);
    expect((await json(bob, "getArtist", { id: id["Los Lobos"]! })).error.code).toBe(70);
    expect((await json(bob, "getSong", { id: "00000000-0000-4000-8000-000000000000" })).error.code).toBe(70);
    expect((await json(bob, "getSong", { id: "not-an-id" })).error.code).toBe(70);
    expect((await json(bob, "getSong")).error.code).toBe(10);
  });

  it("streams with Range without counting a play, and downloads as an attachment", async () => {
    const whole = await rest(app.url, "stream", { ...tokenParams(bob), id: id["Something"]! });
    expect(whole.status).toBe(200);
    expect(whole.type).toBe("audio/mpeg");
    const size = Number(whole.headers.get("content-length"));
    const part = await rest(app.url, "stream.view", { ...tokenParams(bob), id: id["Something"]! }, { headers: { range: "bytes=10-19" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 10-19/${size}`);
    expect(part.bytes).toEqual(whole.bytes.subarray(10, 20));
    expect((await json(bob, "getSong", { id: id["Something"]! })).song.playCount).toBe(0);
    const download = await rest(app.url, "download", { ...tokenParams(bob), id: id["Something"]! });
    expect(download.headers.get("content-disposition")).toMatch(/^attachment; filename="?abbey2\.mp3/);
    expect((await json(bob, "stream", { id: id["Secret Song"]! })).error.code).toBe(70);
  });

  it("serves covers at the nearest stored size, and 70 without one", async () => {
    const { rows } = await app.db.pool.query("SELECT cover_hash FROM album WHERE id = $1", [id["Abbey Road"]]);
    const stored = (size: 64 | 600 | "original") =>
      readFile(coverFilePath(path.join(app.config.mediaDir, "covers"), rows[0].cover_hash, size, "jpeg"));
    const cover = async (params: Record<string, string>) =>
      rest(app.url, "getCoverArt", { ...tokenParams(bob), id: id["Abbey Road"]!, ...params });
    expect((await cover({ size: "50" })).bytes.equals(await stored(64))).toBe(true);
    expect((await cover({ size: "300" })).bytes.equals(await stored(600))).toBe(true);
    expect((await cover({ size: "2000" })).bytes.equals(await stored("original"))).toBe(true);
    const plain = await cover({});
    expect(plain.type).toBe("image/jpeg");
    expect(plain.bytes.equals(await stored("original"))).toBe(true);
    expect((await json(bob, "getCoverArt", { id: id["Homogenic"]! })).error.code).toBe(70);
    expect((await json(bob, "getCoverArt", { id: "00000000-0000-4000-8000-000000000000" })).error.code).toBe(70);
    expect((await json(bob, "getCoverArt", { id: "al-nope" })).error.code).toBe(70);
  });
});
