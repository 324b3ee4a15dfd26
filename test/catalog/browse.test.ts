import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";

describe("browsing the catalog", () => {
  let app: TestApp;
  let alice: TestClient;
  let bob: TestClient;
  let publicLib: string;
  let privateLib: string;
  const id: Record<string, string> = {};

  beforeAll(async () => {
    app = await startTestApp();
    alice = new TestClient(app.url);
    bob = new TestClient(app.url);
    await alice.signup("alice");
    await bob.signup("bob");
    const cover = await makeCoverImage(200, 200, "jpeg");
    const song = (name: string, tags: Record<string, string | string[]>, withCover = false) => ({ name, tags, ...(withCover ? { cover } : {}) });
    publicLib = (await alice.post("/api/v1/libraries", { name: "Shared", privacy: "public" })).body.id;
    privateLib = (await alice.post("/api/v1/libraries", { name: "Mine" })).body.id;
    await seedTracks(app, publicLib, [
      song("abbey1", { ALBUM: "Abbey Road", ALBUMARTIST: "The Beatles", ARTIST: "The Beatles", TITLE: "Come Together", TRACKNUMBER: "1", DATE: "1969", GENRE: "Rock" }, true),
      song("abbey2", { ALBUM: "Abbey Road", ALBUMARTIST: "The Beatles", ARTIST: "The Beatles", TITLE: "Something", TRACKNUMBER: "2", DATE: "1969", GENRE: "Rock" }, true),
      song("homo", { ALBUM: "Homogenic", ALBUMARTIST: "Björk", ARTIST: "Björk", TITLE: "Jóga", TRACKNUMBER: "1", DATE: "1997", GENRE: ["Electronic", "Art Pop"] }),
    ]);
    await seedTracks(app, privateLib, [
      song("demo", { ALBUM: "Demos", ALBUMARTIST: "Alice", ARTIST: "Alice feat. Bob", TITLE: "Secret Song", DATE: "2024", GENRE: "rock" }),
    ]);
    for (const r of (await app.db.pool.query("SELECT id, title FROM track")).rows) id[r.title] = r.id;
    for (const r of (await app.db.pool.query("SELECT id, title FROM album")).rows) id[r.title] = r.id;
    for (const r of (await app.db.pool.query("SELECT id, name FROM artist")).rows) id[r.name] = r.id;
  });
  afterAll(async () => {
    await app?.close();
  });

  const titles = (body: { items: { title?: string; name?: string }[] }) => body.items.map((i) => i.title ?? i.name);

  it("lists what each viewer may see, sorted by name, with totals", async () => {
    const mine = await alice.get("/api/v1/tracks");
    expect(mine.body).toMatchObject({ total: 4, limit: 50, offset: 0 });
    expect(titles(mine.body)).toEqual(["Come Together", "Jóga", "Secret Song", "Something"]);
    const theirs = await bob.get("/api/v1/tracks");
    expect(titles(theirs.body)).toEqual(["Come Together", "Jóga", "Something"]);
    expect(titles((await new TestClient(app.url).get("/api/v1/albums")).body)).toEqual(["Abbey Road", "Homogenic"]);
    expect(titles((await bob.get("/api/v1/artists")).body)).toEqual(["Björk", "The Beatles"]);
    expect(titles((await alice.get("/api/v1/artists")).body)).toEqual(["Alice", "Björk", "Bob", "The Beatles"]);
  });

  it("shapes items with artists, album, duration, genres and cover URLs", async () => {
    const { body } = await alice.get("/api/v1/tracks?limit=1");
    expect(body.items[0]).toMatchObject({
      id: id["Come Together"],
      title: "Come Together",
      artistCredit: "The Beatles",
      artists: [{ id: id["The Beatles"], name: "The Beatles", joinPhrase: "" }],
      album: { id: id["Abbey Road"], title: "Abbey Road" },
      trackNumber: 1,
      year: 1969,
      genres: ["Rock"],
      coverUrl: `/api/v1/albums/${id["Abbey Road"]}/cover`,
      streamUrl: `/api/v1/tracks/${id["Come Together"]}/stream`,
      favorite: false,
      rating: null,
      playCount: 0,
    });
    expect(body.items[0].durationMs).toBeGreaterThan(1000);
    const albums = (await alice.get("/api/v1/albums?sort=year")).body.items;
    expect(albums.map((a: { title: string; year: number }) => [a.title, a.year])).toEqual([["Demos", 2024], ["Homogenic", 1997], ["Abbey Road", 1969]]);
    expect(albums[2]).toMatchObject({ artist: { name: "The Beatles" }, trackCount: 2, compilation: false });
    expect(albums[1].coverUrl).toBeNull();
  });

  it("filters by library, genre, year range, artist and favourites", async () => {
    expect(titles((await alice.get(`/api/v1/tracks?library=${privateLib}`)).body)).toEqual(["Secret Song"]);
    expect(titles((await alice.get("/api/v1/tracks?genre=ROCK")).body)).toEqual(["Come Together", "Secret Song", "Something"]);
    expect(titles((await alice.get("/api/v1/albums?yearFrom=1990&yearTo=2000")).body)).toEqual(["Homogenic"]);
    expect(titles((await alice.get(`/api/v1/tracks?artist=${id["Bob"]}`)).body)).toEqual(["Secret Song"]);
    expect(titles((await bob.get(`/api/v1/tracks?library=${privateLib}`)).body)).toEqual([]);
    expect((await alice.request("PUT", `/api/v1/favorites/tracks/${id["Jóga"]}`)).status).toBe(204);
    expect(titles((await alice.get("/api/v1/tracks?favorites=true")).body)).toEqual(["Jóga"]);
    expect((await alice.get(`/api/v1/tracks/${id["Jóga"]}`)).body.favorite).toBe(true);
    await alice.request("DELETE", `/api/v1/favorites/tracks/${id["Jóga"]}`);
    expect((await alice.get("/api/v1/tracks?favorites=true")).body.total).toBe(0);
  });

  it("sorts by play count, date added, and a random order that pages stably with a seed", async () => {
    for (let i = 0; i < 3; i++) expect((await alice.post(`/api/v1/tracks/${id["Something"]}/plays`)).status).toBe(201);
    const played = await alice.post(`/api/v1/tracks/${id["Jóga"]}/plays`);
    expect(played.body).toMatchObject({ playCount: 1, lastPlayedAt: expect.any(String) });
    expect(titles((await alice.get("/api/v1/tracks?sort=play_count&limit=2")).body)).toEqual(["Something", "Jóga"]);
    expect((await alice.get(`/api/v1/tracks/${id["Something"]}`)).body.playCount).toBe(3);
    expect((await bob.get(`/api/v1/tracks/${id["Something"]}`)).body.playCount).toBe(0);
    const newest = await alice.get("/api/v1/tracks?sort=date_added&order=desc&limit=1");
    expect(newest.body.items[0].title).toBe("Secret Song");
    const page1 = titles((await alice.get("/api/v1/tracks?sort=random&seed=abc&limit=2")).body);
    const page2 = titles((await alice.get("/api/v1/tracks?sort=random&seed=abc&limit=2&offset=2")).body);
    expect(new Set([...page1, ...page2]).size).toBe(4);
    expect(titles((await alice.get("/api/v1/tracks?sort=random&seed=abc&limit=2")).body)).toEqual(page1);
  });

  it("serves artist, album and track details", async () => {
    const album = await bob.get(`/api/v1/albums/${id["Abbey Road"]}`);
    expect(album.body).toMatchObject({ title: "Abbey Road", artists: [{ id: id["The Beatles"], name: "The Beatles", joinPhrase: "" }] });
    expect(album.body.tracks.map((t: { title: string }) => t.title)).toEqual(["Come Together", "Something"]);
    // The detail sums its counts from the tracks it lists, the list per album in SQL: the same album either way.
    const { tracks, artists: _credits, genres, ...detail } = album.body;
    const listed = (await bob.get("/api/v1/albums?sort=name")).body.items.find((a: { id: string }) => a.id === id["Abbey Road"]);
    expect(detail).toEqual(listed);
    expect(detail).toMatchObject({ trackCount: 2, durationMs: tracks.reduce((sum: number, t: { durationMs: number }) => sum + t.durationMs, 0) });
    expect(genres).toEqual(["Rock"]);
    const artist = await bob.get(`/api/v1/artists/${id["The Beatles"]}`);
    expect(artist.body).toMatchObject({ name: "The Beatles", albumCount: 1, coverUrl: `/api/v1/albums/${id["Abbey Road"]}/cover` });
    expect(artist.body.albums.map((a: { title: string }) => a.title)).toEqual(["Abbey Road"]);
    const track = await alice.get(`/api/v1/tracks/${id["Secret Song"]}`);
    expect(track.body.artistCredit).toBe("Alice feat. Bob");
    expect(track.body.uploads).toEqual([expect.objectContaining({ libraryId: privateLib, mimeType: "audio/mpeg", lossless: false })]);
  });

  it("counts genres over what the viewer may see", async () => {
    const genres = (await bob.get("/api/v1/genres?sort=tracks")).body.items;
    expect(genres).toEqual([
      { name: "Rock", trackCount: 2, albumCount: 1 },
      { name: "Art Pop", trackCount: 1, albumCount: 1 },
      { name: "Electronic", trackCount: 1, albumCount: 1 },
    ]);
    expect((await alice.get("/api/v1/genres")).body.items.find((g: { name: string }) => g.name === "Rock").trackCount).toBe(3);
  });

  it("rates 1 to 5 and clears ratings", async () => {
    expect((await bob.request("PUT", `/api/v1/ratings/albums/${id["Abbey Road"]}`, { json: { rating: 5 } })).body).toEqual({ rating: 5 });
    expect((await bob.get(`/api/v1/albums/${id["Abbey Road"]}`)).body.rating).toBe(5);
    expect((await bob.request("PUT", `/api/v1/ratings/albums/${id["Abbey Road"]}`, { json: { rating: 6 } })).status).toBe(400);
    expect((await bob.request("DELETE", `/api/v1/ratings/albums/${id["Abbey Road"]}`)).status).toBe(204);
    expect((await bob.get(`/api/v1/albums/${id["Abbey Road"]}`)).body.rating).toBeNull();
    await bob.request("PUT", `/api/v1/ratings/artists/${id["Björk"]}`, { json: { rating: 4 } });
    expect((await bob.get(`/api/v1/artists/${id["Björk"]}`)).body.rating).toBe(4);
  });

  it("answers bad input: unknown and private ids 404 alike, bad parameters 400 naming them", async () => {
    const missing = await bob.get("/api/v1/tracks/00000000-0000-4000-8000-000000000000");
    const secret = await bob.get(`/api/v1/tracks/${id["Secret Song"]}`);
    expect(secret.status).toBe(404);
    expect(secret.body).toEqual(missing.body);
    expect((await bob.get("/api/v1/albums/not-an-id")).status).toBe(404);
    expect((await bob.request("PUT", `/api/v1/favorites/tracks/${id["Secret Song"]}`)).status).toBe(404);
    const badSort = await bob.get("/api/v1/albums?sort=loudness");
    expect(badSort.status).toBe(400);
    expect(badSort.body.error.details[0].path).toBe("sort");
    expect((await bob.get("/api/v1/tracks?limit=5000")).body.error.details[0].path).toBe("limit");
    expect((await bob.get("/api/v1/tracks?colour=blue")).status).toBe(400);
    expect((await bob.get("/api/v1/artists?sort=year")).status).toBe(400);
    expect((await new TestClient(app.url).request("PUT", `/api/v1/favorites/tracks/${id["Jóga"]}`)).status).toBe(401);
  });

  /** A row-only copy of a track's first upload in `library` (its file is the original's), with `changes`. */
  const copyOf = async (trackId: string, library: string, changes: Record<string, unknown>) => (await app.db.pool.query(
    `INSERT INTO upload SELECT (jsonb_populate_record(u, jsonb_build_object('id', gen_random_uuid(), 'library_id', $2::uuid,
       'path', u.path || '.copy' || $4, 'fid', null) || $3::jsonb)).*
     FROM upload u WHERE u.id = (SELECT id FROM upload WHERE track_id = $1 ORDER BY imported_at LIMIT 1) RETURNING id`,
    [trackId, library, JSON.stringify(changes), randomUUID()],
  )).rows[0].id as string;

  it("lists by a private library's id nothing for others, even what they see through another library", async () => {
    const copy = await copyOf(id["Come Together"]!, privateLib, {});
    try {
      expect(titles((await alice.get(`/api/v1/tracks?library=${privateLib}`)).body)).toEqual(["Come Together", "Secret Song"]);
      for (const kind of ["tracks", "albums", "artists"]) {
        const seen = await bob.get(`/api/v1/${kind}?library=${privateLib}`);
        expect(seen.body, kind).toEqual((await bob.get(`/api/v1/${kind}?library=00000000-0000-4000-8000-000000000000`)).body);
        expect(seen.body.items, kind).toEqual([]);
      }
    } finally {
      await app.db.pool.query("DELETE FROM upload WHERE id = $1", [copy]);
    }
  });

  it("shows and counts one best copy of a track everywhere: lossless, bitrate, oldest, then the lowest id", async () => {
    const track = id["Something"]!;
    const original = (await app.db.pool.query("SELECT id, created_at FROM upload WHERE track_id = $1", [track])).rows[0];
    const twin = { created_at: original.created_at, duration_ms: 123_000 };
    // Ties with the original on all but the id, which is lower: it wins; a higher id loses.
    const copies = [await copyOf(track, publicLib, { ...twin, id: "00000000-0000-4000-8000-000000000001" }),
      await copyOf(track, publicLib, { ...twin, id: "ffffffff-ffff-4fff-8fff-ffffffffffff", duration_ms: 456_000 })];
    try {
      const seen = async (viewer: TestClient) => {
        const detail = (await viewer.get(`/api/v1/tracks/${track}`)).body;
        const album = (await viewer.get(`/api/v1/albums/${id["Abbey Road"]}`)).body;
        const hit = (await viewer.get("/api/v1/search?q=something")).body.tracks[0];
        return {
          best: detail.uploads[0].id, durationMs: detail.durationMs, onAlbum: album.tracks.find((t: { id: string }) => t.id === track).durationMs,
          inSearch: hit.durationMs,
          // The album list sums its tracks' best copies too.
          inAlbumList: (await viewer.get("/api/v1/albums")).body.items.find((a: { id: string }) => a.id === album.id).durationMs
            - album.tracks.find((t: { id: string }) => t.id !== track).durationMs,
        };
      };
      for (const viewer of [alice, bob]) {
        expect(await seen(viewer)).toEqual({ best: copies[0], durationMs: 123_000, onAlbum: 123_000, inSearch: 123_000, inAlbumList: 123_000 });
      }
      expect((await bob.get(`/api/v1/tracks/${track}`)).body.uploads.map((u: { id: string }) => u.id)).toEqual([copies[0], original.id, copies[1]]);
      // Lossless beats all of that.
      await app.db.pool.query("UPDATE upload SET lossless = true, duration_ms = 789000 WHERE id = $1", [copies[1]]);
      expect((await seen(bob)).durationMs).toBe(789_000);
    } finally {
      await app.db.pool.query("DELETE FROM upload WHERE id = ANY($1::uuid[])", [copies]);
    }
  });
});
