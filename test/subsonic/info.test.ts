import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { apiClient, rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";

const AIR_MBID = "cb67438a-7f50-4f2b-a6f1-2bb2729fd538";
const MOON_SAFARI_MBID = "3ac1c1e6-6a3e-4b38-9f6b-0a0f7d4e5b21";

describe("Subsonic top songs and artist/album infos", () => {
  let app: TestApp;
  let alice: Credentials;
  let bob: Credentials;
  const id: Record<string, string> = {};
  const call = (who: Credentials, method: string, params: Record<string, string | string[]> = {}) =>
    rest(app.url, method, { ...tokenParams(who), f: "json", ...params });
  const titles = (songs: { title: string }[] | undefined) => (songs ?? []).map((s) => s.title);

  beforeAll(async () => {
    app = await startTestApp();
    const aliceClient = new TestClient(app.url);
    alice = await subsonicCredentials(aliceClient, "alice");
    bob = await subsonicCredentials(new TestClient(app.url), "bob");
    const cover = await makeCoverImage(100, 100, "jpeg");
    const song = (name: string, tags: Record<string, string | string[]>, withCover = false) => ({ name, tags, ...(withCover ? { cover } : {}) });
    const air = {
      ALBUM: "Moon Safari", ALBUMARTIST: "Air", ARTIST: "Air", GENRE: "Electronic",
      MUSICBRAINZ_ARTISTID: AIR_MBID, MUSICBRAINZ_ALBUMARTISTID: AIR_MBID, MUSICBRAINZ_ALBUMID: MOON_SAFARI_MBID,
    };
    const shared = (await aliceClient.post("/api/v1/libraries", { name: "Shared", privacy: "instance" })).body.id;
    const mine = (await aliceClient.post("/api/v1/libraries", { name: "Mine" })).body.id;
    await seedTracks(app, shared, [
      song("a1", { ...air, TITLE: "All I Need", TRACKNUMBER: "1" }, true),
      song("a2", { ...air, TITLE: "Kelly Watch the Stars", TRACKNUMBER: "2" }, true),
      song("a3", { ...air, TITLE: "Sexy Boy", TRACKNUMBER: "3" }, true),
      song("x", { ALBUM: "Remixes", ALBUMARTIST: "Various Remixers", ARTIST: "Air & Beck", ARTISTS: ["Air", "Beck"], TITLE: "Zzz Remix", GENRE: "Electronic" }),
      song("d", { ALBUM: "Discovery", ALBUMARTIST: "Daft Punk", ARTIST: "Daft Punk", TITLE: "One More Time", GENRE: "Electronic" }),
      song("b", { ALBUM: "Abbey Road", ALBUMARTIST: "The Beatles", ARTIST: "The Beatles", TITLE: "Something", GENRE: "Rock" }),
    ]);
    await seedTracks(app, mine, [
      song("s", { ALBUM: "Demos", ALBUMARTIST: "Los Lobos", ARTIST: "Los Lobos", TITLE: "Secret Song", GENRE: "Electronic" }),
    ]);
    const { rows } = await app.db.pool.query("SELECT id, title AS name FROM track UNION ALL SELECT id, title FROM album UNION ALL SELECT id, name FROM artist");
    for (const r of rows) id[r.name] = r.id;
  });
  afterAll(async () => {
    await app?.close();
  });

  it("lists an artist's songs by everyone's plays, then by title", async () => {
    await call(bob, "scrobble", { id: [id["Sexy Boy"]!, id["Sexy Boy"]!], time: ["1700000000000", "1700000300000"] });
    await call(alice, "scrobble", { id: id["Kelly Watch the Stars"]! });
    const api = apiClient(app.url, { apiKey: bob.apiKey });
    const top = (await api.getTopSongs({ artist: "Air" })).topSongs;
    // Credited songs count too (the remix); unplayed ones follow by title.
    expect(titles(top.song)).toEqual(["Sexy Boy", "Kelly Watch the Stars", "All I Need", "Zzz Remix"]);
    expect(top.song![0]).toMatchObject({ id: id["Sexy Boy"], artist: "Air", album: "Moon Safari", isDir: false, playCount: 2 });
    expect(titles((await api.getTopSongs({ artist: "air", count: 1 })).topSongs.song)).toEqual(["Sexy Boy"]);

    const json = (await call(alice, "getTopSongs", { artist: "Daft Punk" })).json.topSongs;
    expect(json.song).toHaveLength(1);
    expect(json.song[0].playCount).toBe(0);
    expect((await call(alice, "getTopSongs", { artist: "Nobody" })).json.topSongs).toEqual({ song: [] });
    expect((await call(bob, "getTopSongs", { artist: "Los Lobos" })).json.topSongs).toEqual({ song: [] });
    expect(titles((await call(alice, "getTopSongs", { artist: "Los Lobos" })).json.topSongs.song)).toEqual(["Secret Song"]);
    const xml = (await rest(app.url, "getTopSongs", { ...tokenParams(bob), artist: "Air", count: "2" })).text;
    expect(xml).toMatch(/<topSongs><song id="[^"]+"[^>]*title="Sexy Boy"/);
    expect(xml.match(/<song /g)).toHaveLength(2);
    expect((await call(bob, "getTopSongs")).json.error.code).toBe(10);
    expect((await call(bob, "getTopSongs", { artist: "Air", count: "-1" })).json.error.code).toBe(0);
  });

  it("describes an artist from local data: MusicBrainz id, our cover URLs, similar artists by genre", async () => {
    const info = (await apiClient(app.url, { username: "bob", password: bob.password }).getArtistInfo2({ id: id["Air"]! })).artistInfo2;
    const cover = (size: number) => `${TEST_ORIGIN}/rest/getCoverArt.view?id=${id["Moon Safari"]}&size=${size}`;
    expect(info).toMatchObject({ musicBrainzId: AIR_MBID, smallImageUrl: cover(64), mediumImageUrl: cover(256), largeImageUrl: cover(600) });
    expect(info.biography).toBeUndefined();
    // Bob does not see Los Lobos (private); the Beatles share no genre.
    expect(info.similarArtist?.map((a) => a.name)).toEqual(["Daft Punk", "Various Remixers"]);
    expect(info.similarArtist![0]).toMatchObject({ id: id["Daft Punk"], albumCount: 1 });
    const forAlice = (await call(alice, "getArtistInfo2", { id: id["Air"]!, count: "5" })).json.artistInfo2;
    expect(forAlice.similarArtist.map((a: { name: string }) => a.name)).toEqual(["Daft Punk", "Los Lobos", "Various Remixers"]);
    expect((await call(alice, "getArtistInfo2", { id: id["Air"]!, count: "0" })).json.artistInfo2.similarArtist).toEqual([]);

    // The image URL is a working getCoverArt request once the client adds its credentials.
    const image = await fetch(`${app.url}/rest/getCoverArt.view?${new URLSearchParams({ ...tokenParams(bob), id: id["Moon Safari"]!, size: "64" })}`);
    expect(image.headers.get("content-type")).toBe("image/jpeg");

    // No MusicBrainz id, no cover, no shared genre: those keys are absent, the list is empty.
    const beatles = (await call(bob, "getArtistInfo2", { id: id["The Beatles"]! })).json.artistInfo2;
    expect(beatles).toEqual({ similarArtist: [] });

    // XML: the string fields are child elements, as the Subsonic schema has them.
    const xml = (await rest(app.url, "getArtistInfo2", { ...tokenParams(bob), id: id["Air"]! })).text;
    expect(xml).toContain(`<artistInfo2><musicBrainzId>${AIR_MBID}</musicBrainzId><smallImageUrl>${cover(64).replace("&", "&amp;")}</smallImageUrl>`);
    expect(xml).toMatch(/<\/largeImageUrl><similarArtist id="[^"]+" name="Daft Punk"[^>]*\/><similarArtist [^>]*name="Various Remixers"/);

    // The folder model's getArtistInfo answers the same under its own name.
    const legacy = (await call(bob, "getArtistInfo", { id: id["Air"]! })).json;
    expect(legacy.artistInfo).toEqual((await call(bob, "getArtistInfo2", { id: id["Air"]! })).json.artistInfo2);
  });

  it("describes an album from local data, under both names", async () => {
    const api = apiClient(app.url, { apiKey: alice.apiKey });
    const info = (await api.getAlbumInfo2({ id: id["Moon Safari"]! })).albumInfo;
    expect(info).toEqual({
      musicBrainzId: MOON_SAFARI_MBID,
      smallImageUrl: `${TEST_ORIGIN}/rest/getCoverArt.view?id=${id["Moon Safari"]}&size=64`,
      mediumImageUrl: `${TEST_ORIGIN}/rest/getCoverArt.view?id=${id["Moon Safari"]}&size=256`,
      largeImageUrl: `${TEST_ORIGIN}/rest/getCoverArt.view?id=${id["Moon Safari"]}&size=600`,
    });
    expect((await api.getAlbumInfo({ id: id["Moon Safari"]! })).albumInfo).toEqual(info);
    expect((await call(alice, "getAlbumInfo2", { id: id["Discovery"]! })).json.albumInfo).toEqual({});
    const xml = (await rest(app.url, "getAlbumInfo", { ...tokenParams(alice), id: id["Moon Safari"]! })).text;
    expect(xml).toMatch(new RegExp(`<albumInfo><musicBrainzId>${MOON_SAFARI_MBID}</musicBrainzId><smallImageUrl>[^<]+</smallImageUrl><mediumImageUrl>`));
    expect(xml).toMatch(/<\/largeImageUrl><\/albumInfo><\/subsonic-response>$/);
  });

  it("answers missing, malformed, unknown and invisible ids with the right codes", async () => {
    for (const method of ["getArtistInfo2", "getArtistInfo", "getAlbumInfo2", "getAlbumInfo"]) {
      expect((await call(bob, method)).json.error.code).toBe(10);
      expect((await call(bob, method, { id: "ar-1" })).json.error.code).toBe(70);
      expect((await call(bob, method, { id: "00000000-0000-4000-8000-000000000000" })).json.error.code).toBe(70);
    }
    expect((await call(bob, "getArtistInfo2", { id: id["Los Lobos"]! })).json.error.code).toBe(70);
    expect((await call(bob, "getAlbumInfo2", { id: id["Demos"]! })).json.error.code).toBe(70);
    expect((await call(bob, "getArtistInfo2", { id: id["Moon Safari"]! })).json.error.code).toBe(70);
    expect((await rest(app.url, "getAlbumInfo2", { ...tokenParams(bob), id: id["Demos"]! })).text).toContain('<error code="70"');
  });
});
