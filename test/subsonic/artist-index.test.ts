import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTrack } from "../helpers/factories.ts";
import { rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";

// getArtists keeps its index between requests (server/subsonic/artist-index.ts): what changes the
// catalog must show at once, and one person's stars and ratings must never reach another.
describe("Subsonic artist index between changes", () => {
  let app: TestApp;
  let aliceClient: TestClient;
  let alice: Credentials;
  let bob: Credentials;
  let library: string;

  const artists = async (who: Credentials) => {
    const index = (await rest(app.url, "getArtists", { ...tokenParams(who), f: "json" })).json.artists.index as { artist: Record<string, unknown>[] }[];
    return index.flatMap((group) => group.artist);
  };
  const names = async (who: Credentials) => (await artists(who)).map((a) => a.name);
  const generation = async () => (await app.db.pool.query("SELECT value FROM catalog_generation")).rows[0].value as string;
  const upload = (name: string, tags: Record<string, string>) => seedTrack(app, library, { name, tags });

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    aliceClient = new TestClient(app.url);
    alice = await subsonicCredentials(aliceClient, "alice");
    bob = await subsonicCredentials(new TestClient(app.url), "bob");
    // Alice's only library is public: she and Bob see the same libraries, so share one kept index.
    library = (await aliceClient.post("/api/v1/libraries", { name: "Shared", privacy: "public" })).body.id;
    await upload("first", { ALBUM: "First", ALBUMARTIST: "Air", ARTIST: "Air", TITLE: "One" });
  });
  afterAll(async () => {
    await app?.close();
  });

  it("shows imported and deleted albums at once", async () => {
    expect(await names(alice)).toEqual(["Air"]);
    expect(await names(bob)).toEqual(["Air"]);
    const before = await generation();
    await upload("second", { ALBUM: "Second", ALBUMARTIST: "Blur", ARTIST: "Blur", TITLE: "Two" });
    expect(BigInt(await generation())).toBeGreaterThan(BigInt(before));
    expect(await names(bob)).toEqual(["Air", "Blur"]);
    const blur = (await app.db.pool.query("SELECT id FROM album WHERE title = 'Second'")).rows[0].id;
    expect((await aliceClient.request("DELETE", `/api/v1/albums/${blur}`)).status).toBe(204);
    expect(await names(alice)).toEqual(["Air"]);
    expect(await names(bob)).toEqual(["Air"]);
  });

  it("shows a new cover and a renamed artist", async () => {
    const air = (await artists(bob))[0]!;
    expect(air.coverArt).toBeUndefined();
    await app.db.pool.query("UPDATE album SET cover_hash = 'abc' WHERE title = 'First'");
    await app.db.pool.query("UPDATE artist SET name = 'Air France' WHERE name = 'Air'");
    expect(await artists(bob)).toEqual([expect.objectContaining({ name: "Air France", coverArt: expect.any(String) })]);
  });

  it("keeps each person's stars and ratings to themselves", async () => {
    const id = (await artists(alice))[0]!.id as string;
    expect((await rest(app.url, "star", { ...tokenParams(alice), f: "json", artistId: id })).json.status).toBe("ok");
    expect((await rest(app.url, "setRating", { ...tokenParams(alice), f: "json", id, rating: "4" })).json.status).toBe("ok");
    expect((await artists(alice))[0]).toMatchObject({ starred: expect.any(String), userRating: 4 });
    const bobs = (await artists(bob))[0]!;
    expect(bobs.starred).toBeUndefined();
    expect(bobs.userRating).toBe(0);
    // The rendered answer is kept per set of stars and ratings: a change shows at once.
    expect((await rest(app.url, "unstar", { ...tokenParams(alice), f: "json", artistId: id })).json.status).toBe("ok");
    const again = (await artists(alice))[0]!;
    expect(again.starred).toBeUndefined();
    expect(again.userRating).toBe(4);
  });

  it("keeps one answer per format, the same bytes while nothing changes", async () => {
    const xml = await rest(app.url, "getArtists", { ...tokenParams(bob) });
    expect(xml.type).toMatch(/^application\/xml/);
    expect(xml.text).toMatch(/<artist [^>]*name="Air France"/);
    const jsonp = await rest(app.url, "getArtists", { ...tokenParams(bob), f: "jsonp", callback: "cb" });
    expect(jsonp.text).toMatch(/^cb\(\{"subsonic-response":/);
    const json = await rest(app.url, "getArtists", { ...tokenParams(bob), f: "json" });
    expect(json.json.artists.index[0].artist[0].name).toBe("Air France");
    const again = await rest(app.url, "getArtists", { ...tokenParams(bob), f: "json" });
    expect(again.text).toBe(json.text);
    expect(again.headers.get("etag")).toBe(json.headers.get("etag"));
  });

  it("hides a library made private from everyone but its owner", async () => {
    expect((await aliceClient.request("PATCH", `/api/v1/libraries/${library}`, { json: { privacy: "private" } })).status).toBe(200);
    expect(await names(bob)).toEqual([]);
    expect(await names(alice)).toEqual(["Air France"]);
  });
});
