import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { musicFolderId } from "../../core/subsonic/catalog.queries.ts";
import { makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { apiClient, rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";

describe("Subsonic folder browsing (getIndexes, getMusicDirectory)", () => {
  let app: TestApp;
  let alice: Credentials;
  let bob: Credentials;
  let privateLib: string;
  const id: Record<string, string> = {};
  const json = async (who: Credentials, method: string, params: Record<string, string> = {}) =>
    (await rest(app.url, method, { ...tokenParams(who), f: "json", ...params })).json;
  const names = (index: { name: string; artist: { name: string }[] }[]) => index.map((i) => [i.name, i.artist.map((a) => a.name)]);

  beforeAll(async () => {
    app = await startTestApp();
    const aliceClient = new TestClient(app.url);
    alice = await subsonicCredentials(aliceClient, "alice");
    bob = await subsonicCredentials(new TestClient(app.url), "bob");
    const cover = await makeCoverImage(100, 100, "jpeg");
    const song = (name: string, tags: Record<string, string>) => ({ name, tags, ...(tags.ALBUM === "Abbey Road" ? { cover } : {}) });
    const beatles = { ALBUM: "Abbey Road", ALBUMARTIST: "The Beatles", ARTIST: "The Beatles", DATE: "1969" };
    const publicLib = (await aliceClient.post("/api/v1/libraries", { name: "Shared", privacy: "public" })).body.id;
    privateLib = (await aliceClient.post("/api/v1/libraries", { name: "Mine" })).body.id;
    await seedTracks(app, publicLib, [
      song("b2", { ...beatles, TITLE: "Something", TRACKNUMBER: "2" }),
      song("b1", { ...beatles, TITLE: "Come Together", TRACKNUMBER: "1" }),
      song("t", { ALBUM: "Le Tigre", ALBUMARTIST: "Le Tigre", ARTIST: "Le Tigre", TITLE: "Deceptacon" }),
      song("e", { ALBUM: "Éclair", ALBUMARTIST: "Étienne Daho", ARTIST: "Étienne Daho", TITLE: "Week-end à Rome" }),
      song("p", { ALBUM: "Me Against the World", ALBUMARTIST: "2Pac", ARTIST: "2Pac", TITLE: "Dear Mama" }),
    ]);
    await seedTracks(app, privateLib, [
      song("d", { ALBUM: "Demos", ALBUMARTIST: "Los Lobos", ARTIST: "Los Lobos", TITLE: "Secret Song" }),
    ]);
    const { rows } = await app.db.pool.query("SELECT id, title AS name FROM track UNION ALL SELECT id, title FROM album UNION ALL SELECT id, name FROM artist");
    for (const r of rows) id[r.name] = r.id;
  });
  afterAll(async () => {
    await app?.close();
  });

  it("indexes album artists by letter without leading articles or accents, for what each person may see", async () => {
    const indexes = (await apiClient(app.url, { apiKey: alice.apiKey }).getIndexes()).indexes;
    expect(indexes.ignoredArticles).toBe("The El La Los Las Le Les");
    expect(names(indexes.index as never)).toEqual([
      ["#", ["2Pac"]],
      ["B", ["The Beatles"]],
      ["E", ["Étienne Daho"]],
      ["L", ["Los Lobos"]],
      ["T", ["Le Tigre"]],
    ]);
    const bobs = (await json(bob, "getIndexes")).indexes;
    expect(names(bobs.index)).toEqual([["#", ["2Pac"]], ["B", ["The Beatles"]], ["E", ["Étienne Daho"]], ["T", ["Le Tigre"]]]);
    expect(Number.isInteger(bobs.lastModified)).toBe(true);
    expect(bobs.lastModified).toBeGreaterThan(Date.parse("2024-01-01"));
    const beatles = bobs.index[1].artist[0];
    expect(beatles).toEqual({ id: id["The Beatles"], name: "The Beatles", coverArt: id["Abbey Road"] });
    // Only the chosen folder; an unknown folder is 70.
    const onlyPrivate = (await json(alice, "getIndexes", { musicFolderId: String(musicFolderId(privateLib)) })).indexes;
    expect(names(onlyPrivate.index)).toEqual([["L", ["Los Lobos"]]]);
    expect((await json(alice, "getIndexes", { musicFolderId: "7" })).error.code).toBe(70);
    expect((await json(bob, "getIndexes", { musicFolderId: String(musicFolderId(privateLib)) })).error.code).toBe(70);

    const xml = (await rest(app.url, "getIndexes.view", tokenParams(bob))).text;
    expect(xml).toMatch(/<indexes ignoredArticles="The El La Los Las Le Les" lastModified="\d+"><index name="#"><artist id="[^"]+" name="2Pac"\/><\/index>/);
    expect(xml.match(/<index /g)).toHaveLength(4);
  });

  it("answers ifModifiedSince with an empty index when nothing changed", async () => {
    const { lastModified } = (await json(bob, "getIndexes")).indexes;
    expect((await json(bob, "getIndexes", { ifModifiedSince: String(lastModified) })).indexes).toEqual({
      ignoredArticles: "The El La Los Las Le Les",
      lastModified,
    });
    const older = (await json(bob, "getIndexes", { ifModifiedSince: String(lastModified - 1) })).indexes;
    expect(older.index).toHaveLength(4);
    expect((await rest(app.url, "getIndexes", { ...tokenParams(bob), ifModifiedSince: String(lastModified) })).text).toMatch(
      /<indexes ignoredArticles="[^"]+" lastModified="\d+"\/><\/subsonic-response>$/,
    );
  });

  it("walks artist -> albums -> songs with the ids getArtists and getAlbum use", async () => {
    const api = apiClient(app.url, { username: "bob", password: bob.password });
    const artist = (await api.getMusicDirectory({ id: id["The Beatles"]! })).directory;
    expect(artist).toMatchObject({ id: id["The Beatles"], name: "The Beatles" });
    expect(artist.parent).toBeUndefined();
    expect(artist.child).toEqual([
      expect.objectContaining({ id: id["Abbey Road"], parent: id["The Beatles"], isDir: true, title: "Abbey Road", album: "Abbey Road", year: 1969, coverArt: id["Abbey Road"] }),
    ]);
    const album = (await json(bob, "getMusicDirectory", { id: id["Abbey Road"]! })).directory;
    expect(album).toMatchObject({ id: id["Abbey Road"], parent: id["The Beatles"], name: "Abbey Road", playCount: 0 });
    expect(album.child.map((c: { title: string }) => c.title)).toEqual(["Come Together", "Something"]);
    expect(album.child[0]).toMatchObject({ id: id["Come Together"], parent: id["Abbey Road"], isDir: false, track: 1, suffix: "mp3", type: "music" });
    // The same album through the ID3 model.
    const id3 = (await json(bob, "getAlbum", { id: album.id })).album;
    expect(id3.song.map((s: { id: string }) => s.id)).toEqual(album.child.map((c: { id: string }) => c.id));

    // One child: still an array in JSON, one repeated element in XML.
    const tigre = (await json(bob, "getMusicDirectory", { id: id["Le Tigre"]! })).directory;
    expect(Array.isArray(tigre.child)).toBe(true);
    expect(tigre.child).toHaveLength(1);
    const xml = (await rest(app.url, "getMusicDirectory", { ...tokenParams(bob), id: id["Abbey Road"]! })).text;
    expect(xml).toMatch(new RegExp(`<directory id="${id["Abbey Road"]}" parent="${id["The Beatles"]}" name="Abbey Road"[^>]*><child id="${id["Come Together"]}"[^>]* isDir="false"`));
    expect(xml.match(/<child /g)).toHaveLength(2);
  });

  it("answers missing, malformed, unknown, non-directory and invisible ids with the right codes", async () => {
    expect((await json(bob, "getMusicDirectory")).error.code).toBe(10);
    expect((await json(bob, "getMusicDirectory", { id: "1" })).error.code).toBe(70);
    expect((await json(bob, "getMusicDirectory", { id: "00000000-0000-4000-8000-000000000000" })).error.code).toBe(70);
    expect((await json(bob, "getMusicDirectory", { id: id["Something"]! })).error.code).toBe(70);
    expect((await json(bob, "getMusicDirectory", { id: id["Los Lobos"]! })).error.code).toBe(70);
    expect((await json(bob, "getMusicDirectory", { id: id["Demos"]! })).error.code).toBe(70);
    expect((await json(alice, "getMusicDirectory", { id: id["Demos"]! })).directory.child).toHaveLength(1);
    const failed = (await apiClient(app.url, { apiKey: bob.apiKey }).getMusicDirectory({ id: id["Demos"]! })) as unknown as { error: { code: number } };
    expect(failed.error.code).toBe(70);
    expect((await rest(app.url, "getMusicDirectory", { ...tokenParams(bob), id: id["Los Lobos"]! })).text).toContain('<error code="70"');
  });
});
