import { createHash } from "node:crypto";
import sharp from "sharp";
import type SubsonicAPI from "subsonic-api";
import type { StructuredLyrics } from "subsonic-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg } from "../fixtures/audio.ts";
import { failure, openClientSession, titles, type Failed } from "./client-session.ts";
import type { ConformanceCatalog } from "./conformance-catalog.ts";
import { apiClient } from "./helpers.ts";

// Reading the catalog through `subsonic-api`, an independent client from npm, as a third-party app
// would: every read-only method, both of the client's auth modes (token and apiKey), the media bytes,
// and the error codes as the client sees them. The writes are in client-writes.test.ts.

const NOBODY = "00000000-0000-4000-8000-000000000000";

/** The methods this file must call through the client (with client-writes.test.ts: every method the server answers). */
const METHODS = [
  "ping", "getLicense", "getOpenSubsonicExtensions", "tokenInfo", "getMusicFolders", "getIndexes", "getMusicDirectory",
  "getArtists", "getArtist", "getAlbum", "getSong", "getAlbumList", "getAlbumList2", "getRandomSongs", "getSongsByGenre", "getGenres",
  "search2", "search3", "stream", "download", "getCoverArt", "getUser", "getScanStatus", "getLyrics", "getLyricsBySongId",
  "getTopSongs", "getArtistInfo2", "getArtistInfo", "getAlbumInfo2", "getAlbumInfo",
];

describe.skipIf(!hasFfmpeg())("Subsonic through the subsonic-api client: reading", () => {
  let c: ConformanceCatalog;
  let alice: SubsonicAPI;
  let bob: SubsonicAPI;
  let called: Set<string>;

  beforeAll(async () => {
    ({ c, alice, bob, called } = await openClientSession());
  });
  afterAll(async () => {
    await c?.close();
  });

  it("pings, reads the license, the extensions and the key's owner (tokenInfo via customJSON) in both auth modes", async () => {
    expect((await alice.ping()).status).toBe("ok");
    expect((await bob.ping()).status).toBe("ok");
    expect((await apiClient(c.app.url, { apiKey: c.bob.apiKey }, true).ping()).status).toBe("ok"); // formPost
    expect((await alice.getLicense()).license.valid).toBe(true);
    const extensions = (await bob.getOpenSubsonicExtensions()).openSubsonicExtensions.map((e) => e.name);
    expect(extensions).toEqual(expect.arrayContaining(["apiKeyAuthentication", "formPost", "songLyrics"]));
    // The client has no tokenInfo method: its generic customJSON sends it with the same auth.
    expect((await bob.customJSON<{ tokenInfo: { username: string } }>("tokenInfo", {})).tokenInfo).toEqual({ username: "bob" });
  });

  it("browses folders, indexes and directories down to a song whose ids resolve", async () => {
    const folders = (await bob.getMusicFolders()).musicFolders.musicFolder ?? [];
    expect(folders.map((f) => f.name)).toEqual(["Music"]);
    const indexes = (await bob.getIndexes({ musicFolderId: folders[0]!.id })).indexes;
    const indexed = indexes.index?.flatMap((i) => (i.artist ?? []).map((a) => a.name)) ?? [];
    expect([...indexed].sort()).toEqual(["Björk", "The Beatles", "Various Artists"]); // album artists; the sampler is a compilation
    const beatles = indexes.index!.flatMap((i) => i.artist ?? []).find((a) => a.name === "The Beatles")!;
    const artistDir = (await alice.getMusicDirectory({ id: beatles.id })).directory;
    expect(artistDir.name).toBe("The Beatles");
    expect(artistDir.child?.map((e) => [e.title, e.isDir])).toEqual([["Abbey Road", true]]);
    const albumDir = (await bob.getMusicDirectory({ id: artistDir.child![0]!.id })).directory;
    expect(titles(albumDir.child)).toEqual(["Come Together", "Something"]);
    expect(albumDir.child!.every((s) => s.parent === albumDir.id && !s.isDir)).toBe(true);
    const song = (await alice.getSong({ id: albumDir.child![0]!.id })).song;
    expect([song.title, song.album, song.artist, song.track, song.year]).toEqual(["Come Together", "Abbey Road", "The Beatles", 1, 1969]);
  });

  it("lists artists (ID3), an artist's albums and an album's songs, with the caller's ratings", async () => {
    const artists = (await bob.getArtists()).artists.index?.flatMap((i) => i.artist ?? []) ?? [];
    expect(artists.map((a) => a.name).sort()).toEqual(["Björk", "The Beatles", "Various Artists"]);
    const bjork = artists.find((a) => a.name === "Björk")!;
    const artist = (await bob.getArtist({ id: bjork.id })).artist;
    expect(artist.name).toBe("Björk");
    expect(artist.album?.map((a) => [a.name, a.songCount, a.year])).toEqual([["Biophilia", 2, 2011]]);
    const album = (await bob.getAlbum({ id: artist.album![0]!.id })).album;
    expect(titles(album.song)).toEqual(["Náttúra", "Hunter"]);
    expect(album.song!.every((s) => s.albumId === album.id)).toBe(true);
    // Alice rated Abbey Road 5 and Something 4 while making the catalog; Bob rated nothing.
    const abbey = (await alice.getAlbum({ id: c.id["Abbey Road"]! })).album;
    expect([abbey.userRating, abbey.song?.find((s) => s.title === "Something")?.userRating]).toEqual([5, 4]);
    expect((await bob.getAlbum({ id: c.id["Abbey Road"]! })).album.userRating ?? 0).toBe(0);
  });

  it("answers every album list type through getAlbumList2 and getAlbumList", async () => {
    const list2 = async (args: Parameters<SubsonicAPI["getAlbumList2"]>[0]) => titles((await alice.getAlbumList2(args)).albumList2.album);
    const list = async (args: Parameters<SubsonicAPI["getAlbumList"]>[0]) => titles((await alice.getAlbumList(args)).albumList.album);
    const all = ["Abbey Road", "Biophilia", "Nouvelle Vague Sampler"];
    expect(await list2({ type: "alphabeticalByName" })).toEqual(all);
    expect(await list({ type: "alphabeticalByName" })).toEqual(all);
    expect((await list2({ type: "alphabeticalByArtist" })).sort()).toEqual(all);
    expect((await list2({ type: "random" })).sort()).toEqual(all);
    expect(await list2({ type: "random", size: 1 })).toHaveLength(1);
    expect((await list2({ type: "newest" })).sort()).toEqual(all);
    expect(await list2({ type: "alphabeticalByName", size: 1, offset: 1 })).toEqual(["Biophilia"]);
    expect((await list2({ type: "highest" }))[0]).toBe("Abbey Road"); // rated 5
    expect(await list2({ type: "frequent" })).toContain("Abbey Road"); // Come Together was scrobbled
    expect((await list({ type: "recent" }))[0]).toBe("Abbey Road");
    expect(await list2({ type: "starred" })).toEqual(["Biophilia"]);
    expect(await list({ type: "starred" })).toEqual(["Biophilia"]);
    expect(await list2({ type: "byYear", fromYear: 1960, toYear: 1970 })).toEqual(["Abbey Road"]);
    expect(await list2({ type: "byYear", fromYear: 2020, toYear: 2000 })).toEqual(["Biophilia", "Nouvelle Vague Sampler"]);
    expect(await list({ type: "byGenre", genre: "Rock" })).toEqual(["Abbey Road"]);
    expect(await list2({ type: "byGenre", genre: "Electronic" })).toEqual(["Biophilia", "Nouvelle Vague Sampler"]);
  });

  it("picks random songs, songs by genre and counts the genres", async () => {
    const random = (await bob.getRandomSongs({ size: 20 })).randomSongs.song ?? [];
    expect(titles(random).sort()).toEqual(["Around the World", "Come Together", "Hunter", "La Femme d'Argent", "Náttúra", "Something"]);
    expect(titles((await bob.getRandomSongs({ genre: "Pop" })).randomSongs.song)).toEqual(["Náttúra"]);
    expect(titles((await bob.getRandomSongs({ fromYear: 1960, toYear: 1970 })).randomSongs.song).sort()).toEqual(["Come Together", "Something"]);
    const electronic = titles((await alice.getSongsByGenre({ genre: "Electronic" })).songsByGenre.song);
    expect(electronic.sort()).toEqual(["Around the World", "Hunter", "La Femme d'Argent", "Náttúra"]);
    expect((await alice.getSongsByGenre({ genre: "Electronic", count: 1, offset: 3 })).songsByGenre.song).toHaveLength(1);
    const genres = (await bob.getGenres()).genres.genre ?? [];
    expect(genres.map((g) => [g.value, g.songCount, g.albumCount])).toEqual([["Electronic", 4, 2], ["Pop", 1, 1], ["Rock", 2, 1]]);
  });

  it("searches with search3 (ID3) and search2 (folders), accents and case folded", async () => {
    const found = (await bob.search3({ query: "beatles" })).searchResult3;
    expect(titles(found.artist)).toEqual(["The Beatles"]);
    expect(titles(found.album)).toEqual(["Abbey Road"]);
    expect(titles(found.song).sort()).toEqual(["Come Together", "Something"]);
    const everything = (await alice.search3({ query: "", songCount: 100 })).searchResult3;
    expect(everything.song).toHaveLength(6);
    const folders = (await alice.search2({ query: "bjork" })).searchResult2;
    expect(titles(folders.artist)).toEqual(["Björk"]);
    expect(titles(folders.album)).toEqual(["Biophilia"]);
    expect(titles((await bob.search2({ query: "NATTURA" })).searchResult2.song)).toEqual(["Náttúra"]);
  });

  it("streams and downloads the very bytes that were uploaded, and serves a cover as an image", async () => {
    const checksum = async (title: string) =>
      (await c.app.db.pool.query("SELECT checksum FROM upload WHERE track_id = $1", [c.id[title]])).rows[0].checksum as string;
    const sha256 = (bytes: ArrayBuffer) => createHash("sha256").update(Buffer.from(bytes)).digest("hex");

    const stream = await bob.stream({ id: c.id["Come Together"]! });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/^audio\/mpeg/);
    expect(sha256(await stream.arrayBuffer())).toBe(await checksum("Come Together"));

    const download = await alice.download({ id: c.id.Hunter! });
    expect(download.headers.get("content-type")).toMatch(/^audio\/flac/);
    expect(download.headers.get("content-disposition")).toMatch(/^attachment; filename="?bio2\.flac"?$/);
    expect(sha256(await download.arrayBuffer())).toBe(await checksum("Hunter"));

    const cover = await bob.getCoverArt({ id: c.id["Abbey Road"]!, size: 64 });
    expect(cover.headers.get("content-type")).toMatch(/^image\/jpeg/);
    const image = await sharp(Buffer.from(await cover.arrayBuffer())).metadata();
    expect([image.format, image.width, image.height]).toEqual(["jpeg", 64, 64]);
    const original = await sharp(Buffer.from(await (await alice.getCoverArt({ id: c.id["Nouvelle Vague Sampler"]! })).arrayBuffer())).metadata();
    expect(original.format).toBe("jpeg");
    expect(original.width).toBeGreaterThan(64);
  });

  it("reads lyrics (structured and legacy), top songs and artist and album infos", async () => {
    // The client types lyricsList as the array itself; the OpenSubsonic spec (and we) wrap it in structuredLyrics.
    const structured = async (id: string) =>
      ((await bob.getLyricsBySongId({ id })).lyricsList as unknown as { structuredLyrics?: StructuredLyrics[] }).structuredLyrics ?? [];
    const lyrics = await structured(c.id.Hunter!);
    expect(lyrics.map((l) => [l.synced, l.displayTitle, l.line])).toEqual([
      [true, "Hunter", [{ start: 1500, value: "If travel is searching" }, { start: 4000, value: "And home what's been found" }]],
    ]);
    expect(await structured(c.id.Something!)).toEqual([]);
    const legacy = (await alice.getLyrics({ artist: "Björk", title: "Hunter" })).lyrics;
    expect([legacy.artist, legacy.title, legacy.value]).toEqual(["Björk", "Hunter", "If travel is searching\nAnd home what's been found"]);

    // Alice scrobbled Come Together: it leads the Beatles' top songs.
    expect(titles((await alice.getTopSongs({ artist: "The Beatles" })).topSongs.song)).toEqual(["Come Together", "Something"]);
    expect(titles((await bob.getTopSongs({ artist: "the beatles", count: 1 })).topSongs.song)).toHaveLength(1);

    const artistInfo = (await bob.getArtistInfo2({ id: c.id["The Beatles"]! })).artistInfo2;
    expect(artistInfo.musicBrainzId).toBe("b10bbbfc-cf9e-42e0-be17-e2c3e1d2600d");
    expect(artistInfo.smallImageUrl).toMatch(/\/rest\/getCoverArt\.view\?id=[0-9a-f-]+&size=64$/);
    expect((await alice.getArtistInfo({ id: c.id["The Beatles"]! })).artistInfo).toEqual(artistInfo); // the folder model's name
    const albumInfo = (await alice.getAlbumInfo2({ id: c.id["Abbey Road"]! })).albumInfo;
    expect(albumInfo.musicBrainzId).toBe("c2d5e9f8-5a6b-4e98-8b40-4d6c3a1a7b22");
    expect(albumInfo.largeImageUrl).toContain(`getCoverArt.view?id=${c.id["Abbey Road"]}&size=600`);
    expect((await bob.getAlbumInfo({ id: c.id["Abbey Road"]! })).albumInfo).toEqual(albumInfo);
    const cover = await bob.getCoverArt({ id: new URL(albumInfo.smallImageUrl!).searchParams.get("id")!, size: 64 });
    expect(cover.headers.get("content-type")).toMatch(/^image\//);
  });

  it("reports the caller's user and the scan status", async () => {
    const me = (await alice.getUser({ username: "alice" })).user;
    const folderId = (await alice.getMusicFolders()).musicFolders.musicFolder![0]!.id;
    expect([me.username, me.adminRole, me.streamRole, me.folder]).toEqual(["alice", true, true, [folderId]]);
    expect((await alice.getUser({ username: "bob" })).user.adminRole).toBe(false); // an administrator reads anyone
    expect((await bob.getUser({ username: "bob" })).user.username).toBe("bob");
    const status = (await bob.getScanStatus()).scanStatus;
    expect([status.scanning, status.count]).toEqual([false, 6]);
  });

  describe("error codes as the client sees them", () => {
    it("40 for a wrong password, 44 for an unknown API key, 43 for an API key with a username", async () => {
      expect(await failure(apiClient(c.app.url, { username: "alice", password: "wrong" }).ping())).toBe(40);
      expect(await failure(apiClient(c.app.url, { apiKey: "pps_nope" }).getArtists())).toBe(44);
      // The client's typed auth forbids both at once; its custom call adds `u` to the apiKey request.
      expect(await failure(bob.customJSON("ping", { u: "bob" }))).toBe(43);
    });

    it("10 for a missing parameter, 70 for an unknown id, also from the binary methods", async () => {
      expect(await failure(alice.getAlbum({} as { id: string }))).toBe(10);
      expect(await failure(bob.getTopSongs({} as { artist: string }))).toBe(10);
      expect(await failure(alice.getAlbum({ id: NOBODY }))).toBe(70);
      expect(await failure(bob.getArtist({ id: NOBODY }))).toBe(70);
      expect(await failure(bob.getSong({ id: "not-a-uuid" }))).toBe(70);
      for (const response of [await bob.stream({ id: NOBODY }), await alice.download({ id: NOBODY }), await bob.getCoverArt({ id: NOBODY })]) {
        expect(response.headers.get("content-type")).toMatch(/^application\/json/);
        expect(((await response.json()) as { "subsonic-response": Failed })["subsonic-response"].error?.code).toBe(70);
      }
    });

    it("50 for a listener reading another user (the one administrator-only read)", async () => {
      expect(await failure(bob.getUser({ username: "alice" }))).toBe(50);
    });
  });

  // Last, so it sees the calls of the tests above (vitest runs a file's tests in order).
  it("called each of its methods through the client", () => {
    expect(METHODS.filter((m) => !called.has(m))).toEqual([]);
  });
});
