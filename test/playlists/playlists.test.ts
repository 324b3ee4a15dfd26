import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";

const MISSING = "00000000-0000-4000-8000-000000000000";

describe("playlists", () => {
  let app: TestApp;
  let alice: TestClient;
  let bob: TestClient;
  let anonymous: TestClient;
  /** Track ids by title: alice's One, Two, Three; bob's private Hidden. */
  const track: Record<string, string> = {};
  const uploadOf: Record<string, string> = {};

  const upload = async (client: TestClient, library: string, songs: Record<string, string>[]) => {
    await seedTracks(app, library, songs.map((tags) => ({ tags: { ALBUM: "Numbers", ALBUMARTIST: "Band", ARTIST: "Band", ...tags } })));
    const { body } = await client.get(`/api/v1/uploads?library=${library}&status=finished`);
    for (const u of body.items) {
      track[u.originalName.replace(/\.mp3$/, "")] = u.trackId;
      uploadOf[u.originalName.replace(/\.mp3$/, "")] = u.id;
    }
  };

  beforeAll(async () => {
    app = await startTestApp();
    [alice, bob, anonymous] = [new TestClient(app.url), new TestClient(app.url), new TestClient(app.url)];
    await alice.signup("alice");
    await bob.signup("bob");
    const aliceLib = (await alice.post("/api/v1/libraries", { name: "Alice's" })).body.id;
    const bobLib = (await bob.post("/api/v1/libraries", { name: "Bob's" })).body.id;
    await upload(alice, aliceLib, [
      { TITLE: "One", TRACKNUMBER: "1", ARTIST: "Band feat. Guest" },
      { TITLE: "Two", TRACKNUMBER: "2" },
      { TITLE: "Three", TRACKNUMBER: "3" },
      { TITLE: "Solo", ALBUM: "Single", TRACKNUMBER: "1" },
    ]);
    await upload(bob, bobLib, [{ TITLE: "Hidden", ALBUM: "Secret", TRACKNUMBER: "1" }]);
  });
  afterAll(async () => {
    await app?.close();
  });

  const create = async (client: TestClient, body: Record<string, unknown> = {}) =>
    (await client.post("/api/v1/playlists", { name: "Mix", ...body })).body;
  const add = (client: TestClient, id: string, titles: string[], position?: number) =>
    client.post(`/api/v1/playlists/${id}/items`, { trackIds: titles.map((t) => track[t]), position });
  /** The playlist's items as `position:title`, so order and density show in one comparison. */
  const order = async (id: string) => {
    const { body } = await alice.get(`/api/v1/playlists/${id}`);
    return body.items.map((i: any) => `${i.position}:${i.title}`);
  };

  it("are created with defaults and their own ActivityPub actor, renamed, and deleted with it", async () => {
    // "?" and "'" pass through the ORM's placeholder substitution untouched.
    const res = await alice.post("/api/v1/playlists", { name: "Road trip? It's on" });
    expect(res.status).toBe(201);
    const pl = res.body;
    expect(pl).toMatchObject({ name: "Road trip? It's on", description: "", privacy: "private", isOwner: true, itemCount: 0, durationMs: 0 });
    expect(pl.owner.username).toBe("alice");
    expect(pl.actorId).toBe(`${TEST_ORIGIN}/actors/pl.${pl.id.replaceAll("-", "")}`);
    // A private playlist's actor answers like a missing one (test/api/hidden-items.test.ts).
    expect((await alice.get(new URL(pl.actorId).pathname, { accept: "application/activity+json" })).status).toBe(404);

    const patched = await alice.request("PATCH", `/api/v1/playlists/${pl.id}`, {
      json: { name: "Long drive", description: "Night songs", privacy: "instance" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: "Long drive", description: "Night songs", privacy: "instance" });
    expect(new Date(patched.body.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(pl.updatedAt).getTime());
    const renamed = await alice.get(new URL(pl.actorId).pathname, { accept: "application/activity+json" });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ type: "Application", name: "Long drive", id: pl.actorId });
    expect(renamed.body.publicKey.publicKeyPem).toContain("BEGIN PUBLIC KEY");

    expect((await alice.request("DELETE", `/api/v1/playlists/${pl.id}`)).status).toBe(204);
    expect((await alice.get(`/api/v1/playlists/${pl.id}`)).status).toBe(404);
    // Its actor stays as a tombstone, keys included, so a Delete can still be signed.
    const actors = await app.db.pool.query("SELECT deleted_at IS NOT NULL AS gone, rsa_private_jwk IS NOT NULL AS keys FROM actor WHERE fid = $1", [
      pl.actorId,
    ]);
    expect(actors.rows).toEqual([{ gone: true, keys: true }]);
    expect((await alice.get(new URL(pl.actorId).pathname, { accept: "application/activity+json" })).status).toBe(410);
  });

  it("validate input, naming the field, and treat malformed or unknown ids as missing", async () => {
    const empty = await alice.post("/api/v1/playlists", { name: " " });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details.map((d: any) => d.path)).toEqual(["name"]);
    const extra = await alice.post("/api/v1/playlists", { name: "X", owner: "bob" });
    expect(extra.status).toBe(400);
    const pl = await create(alice);
    const privacy = await alice.request("PATCH", `/api/v1/playlists/${pl.id}`, { json: { privacy: "secret" } });
    expect([privacy.status, privacy.body.error.details[0].path]).toEqual([400, "privacy"]);
    const badTrack = await alice.post(`/api/v1/playlists/${pl.id}/items`, { trackIds: ["nope"] });
    expect([badTrack.status, badTrack.body.error.details[0].path]).toEqual([400, "trackIds.0"]);
    const badPosition = await alice.post(`/api/v1/playlists/${pl.id}/items`, { trackIds: [track.One], position: -1 });
    expect([badPosition.status, badPosition.body.error.details[0].path]).toEqual([400, "position"]);
    expect((await alice.get(`/api/v1/playlists/${pl.id}?limit=1001`)).status).toBe(400);
    expect((await alice.get("/api/v1/playlists/not-a-uuid")).status).toBe(404);
    expect((await alice.get(`/api/v1/playlists/${MISSING}`)).status).toBe(404);
    expect((await alice.request("DELETE", `/api/v1/playlists/${pl.id}/items/not-a-uuid`)).status).toBe(404);
    expect((await alice.request("DELETE", `/api/v1/playlists/${pl.id}/items/${MISSING}`)).status).toBe(404);
    await add(alice, pl.id, ["One"]);
    const unknown = await alice.post(`/api/v1/playlists/${pl.id}/items`, { trackIds: [track.Two, MISSING] });
    expect([unknown.status, unknown.body.error.details]).toEqual([404, { trackIds: [MISSING] }]);
    expect(await order(pl.id)).toEqual(["0:One"]);
  });

  it("keep items in a dense order through add, insert, move and remove, duplicates included", async () => {
    const pl = await create(alice);
    const first = await add(alice, pl.id, ["One", "Two"]);
    expect(first.status).toBe(201);
    const one = first.body.items[0];
    expect(one).toMatchObject({ position: 0, trackId: track.One, available: true, title: "One", artist: "Band feat. Guest", album: "Numbers" });
    expect(one.albumId).toMatch(/^[0-9a-f-]{36}$/);
    expect(one.durationMs).toBeGreaterThan(1400);
    expect(one.durationMs).toBeLessThan(1700);

    const inserted = await add(alice, pl.id, ["Three", "One"], 1);
    expect(inserted.body.items.map((i: any) => `${i.position}:${i.title}`)).toEqual(["1:Three", "2:One"]);
    expect(await order(pl.id)).toEqual(["0:One", "1:Three", "2:One", "3:Two"]);

    const items = (await alice.get(`/api/v1/playlists/${pl.id}`)).body.items;
    const moved = await alice.post(`/api/v1/playlists/${pl.id}/items/${items[3].id}/move`, { position: 0 });
    expect(moved.body).toMatchObject({ id: items[3].id, position: 0, title: "Two" });
    expect(await order(pl.id)).toEqual(["0:Two", "1:One", "2:Three", "3:One"]);
    await alice.post(`/api/v1/playlists/${pl.id}/items/${items[1].id}/move`, { position: 99 }); // past the end: last
    expect(await order(pl.id)).toEqual(["0:Two", "1:One", "2:One", "3:Three"]);

    expect((await alice.request("DELETE", `/api/v1/playlists/${pl.id}/items/${items[0].id}`)).status).toBe(204);
    expect(await order(pl.id)).toEqual(["0:Two", "1:One", "2:Three"]);
    await add(alice, pl.id, ["Two"], 50); // past the end: appended
    expect(await order(pl.id)).toEqual(["0:Two", "1:One", "2:Three", "3:Two"]);

    const page = await alice.get(`/api/v1/playlists/${pl.id}?limit=2&offset=1`);
    expect(page.body.items.map((i: any) => i.title)).toEqual(["One", "Three"]);
    expect([page.body.itemCount, page.body.limit, page.body.offset]).toEqual([4, 2, 1]);
    expect(page.body.durationMs).toBeGreaterThan(4 * 1400);

    expect((await alice.request("DELETE", `/api/v1/playlists/${pl.id}/items`)).status).toBe(204);
    expect((await alice.get(`/api/v1/playlists/${pl.id}`)).body).toMatchObject({ itemCount: 0, items: [] });
  });

  it("keep positions dense under concurrent appends and moves", async () => {
    const pl = await create(alice);
    const titles = ["One", "Two", "Three"];
    const results = await Promise.all(Array.from({ length: 24 }, (_, n) => add(alice, pl.id, [titles[n % 3]!])));
    expect(results.map((r) => r.status)).toEqual(Array(24).fill(201));
    const { body } = await alice.get(`/api/v1/playlists/${pl.id}`);
    expect(body.items.map((i: any) => i.position)).toEqual([...Array(24).keys()]);
    const moves = await Promise.all(
      body.items.slice(0, 12).map((item: any, n: number) => alice.post(`/api/v1/playlists/${pl.id}/items/${item.id}/move`, { position: 23 - n })),
    );
    expect(moves.map((r) => r.status)).toEqual(Array(12).fill(200));
    const after = (await alice.get(`/api/v1/playlists/${pl.id}`)).body.items;
    expect(after.map((i: any) => i.position)).toEqual([...Array(24).keys()]);
    expect(new Set(after.map((i: any) => i.id)).size).toBe(24);
  });

  it("hide others' private playlists, let others read shared ones, and never let them write", async () => {
    const pl = await create(alice, { name: "Mine", privacy: "private" });
    await add(alice, pl.id, ["One"]);
    const bobsOwn = await create(bob, { name: "Bob's secret" });
    for (const client of [bob, anonymous]) {
      expect((await client.get(`/api/v1/playlists/${pl.id}`)).status).toBe(404);
      expect((await client.get(`/api/v1/playlists/${pl.id}/export?format=xspf`)).status).toBe(404);
    }
    await alice.request("PATCH", `/api/v1/playlists/${pl.id}`, { json: { privacy: "instance" } });
    const seen = await bob.get(`/api/v1/playlists/${pl.id}`);
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ isOwner: false, owner: { username: "alice" } });
    // Alice's library is private: Bob sees the song's name but not the track behind it.
    expect(seen.body.items[0]).toMatchObject({ title: "One", available: false, trackId: null, albumId: null });
    expect((await anonymous.get(`/api/v1/playlists/${pl.id}`)).status).toBe(404);
    const itemId = seen.body.items[0].id;
    const writes = [
      bob.request("PATCH", `/api/v1/playlists/${pl.id}`, { json: { name: "Stolen" } }),
      bob.request("DELETE", `/api/v1/playlists/${pl.id}`),
      bob.post(`/api/v1/playlists/${pl.id}/items`, { trackIds: [track.Hidden] }),
      bob.post(`/api/v1/playlists/${pl.id}/items/${itemId}/move`, { position: 0 }),
      bob.request("DELETE", `/api/v1/playlists/${pl.id}/items/${itemId}`),
      bob.request("DELETE", `/api/v1/playlists/${pl.id}/items`),
    ];
    expect((await Promise.all(writes)).map((r) => r.status)).toEqual([404, 404, 404, 404, 404, 404]);
    expect(await order(pl.id)).toEqual(["0:One"]);
    // Nor can Alice add a track of Bob's private library.
    expect((await add(alice, pl.id, ["Hidden"])).status).toBe(404);

    const aliceList = (await alice.get("/api/v1/playlists?scope=visible&limit=200")).body;
    expect(aliceList.items.map((p: any) => p.id)).not.toContain(bobsOwn.id);
    await alice.request("PATCH", `/api/v1/playlists/${pl.id}`, { json: { privacy: "public" } });
    expect((await anonymous.get(`/api/v1/playlists/${pl.id}`)).status).toBe(200);
    const bobMine = (await bob.get("/api/v1/playlists")).body;
    expect(bobMine.items.map((p: any) => p.name)).toEqual(["Bob's secret"]);
    const bobVisible = (await bob.get("/api/v1/playlists?scope=visible&limit=200")).body;
    expect(bobVisible.items.map((p: any) => p.id)).toEqual(expect.arrayContaining([pl.id, bobsOwn.id]));
    expect(bobVisible.total).toBe(bobVisible.items.length);
  });

  it("keep an item's snapshot, unavailable, when its track is deleted", async () => {
    const pl = await create(alice);
    await add(alice, pl.id, ["One", "Solo", "Two"]);
    const before = (await alice.get(`/api/v1/playlists/${pl.id}`)).body.items[1];
    expect(before).toMatchObject({ title: "Solo", available: true, trackId: track.Solo });
    expect((await alice.request("DELETE", `/api/v1/uploads/${uploadOf.Solo}`)).status).toBe(204);
    const tracks = await app.db.pool.query("SELECT count(*)::int AS n FROM track WHERE id = $1", [track.Solo]);
    expect(tracks.rows[0].n).toBe(0);
    const after = (await alice.get(`/api/v1/playlists/${pl.id}`)).body;
    expect(after.items.map((i: any) => `${i.position}:${i.title}:${i.available}`)).toEqual(["0:One:true", "1:Solo:false", "2:Two:true"]);
    expect(after.items[1]).toEqual({
      ...before,
      trackId: null,
      available: false,
      albumId: null,
    });
  });
});
