import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { seedFailedAnalysis, seedFeatures, type FeatureSeed } from "../helpers/analysis.ts";

// Smart playlists over the REST API: rules evaluated on each read over what the owner may see.

describe("smart playlists", () => {
  let app: TestApp;
  let alice: TestClient;
  let bob: TestClient;
  const track: Record<string, string> = {};

  /** Seeds songs (title, genre, year) into a library, each with its features (none: not analysed). */
  const songs = async (library: string, list: [title: string, genre: string, year: number, features?: FeatureSeed][]) => {
    const seeded = await seedTracks(app, library, list.map(([TITLE, GENRE, year]) => ({
      tags: { TITLE, GENRE, DATE: String(year), ALBUM: `${TITLE} album`, ARTIST: "Band" },
    })));
    for (const [i, [title, , , features]] of list.entries()) {
      track[title] = seeded[i]!.trackId;
      if (features) await seedFeatures(app.db.pool, seeded[i]!.trackId, features);
    }
  };

  beforeAll(async () => {
    app = await startTestApp();
    [alice, bob] = [new TestClient(app.url), new TestClient(app.url)];
    await alice.signup("alice");
    await bob.signup("bob");
    const aliceLib = (await alice.post("/api/v1/libraries", { name: "Alice's", privacy: "private" })).body.id;
    const bobPrivate = (await bob.post("/api/v1/libraries", { name: "Bob's", privacy: "private" })).body.id;
    const bobShared = (await bob.post("/api/v1/libraries", { name: "Bob's shared", privacy: "instance" })).body.id;
    await songs(aliceLib, [
      ["Slow", "Jazz", 1990, { tempoBpm: 80, keyTonic: "A", keyMode: "minor", energy: 0.3, danceability: 0.4, loudnessLufs: -20, dynamicComplexity: 6 }],
      ["Mid", "Rock", 2000, { tempoBpm: 120, keyTonic: "C", keyMode: "major", energy: 0.6, danceability: 0.7, loudnessLufs: -12, dynamicComplexity: 3 }],
      ["Fast", "Rock", 2010, { tempoBpm: 170, keyTonic: "G", keyMode: "major", energy: 0.9, danceability: 0.8, loudnessLufs: -8, dynamicComplexity: 2 }],
      ["Edge", "Rock", 2005, { tempoBpm: 125, keyTonic: "D", keyMode: "minor", energy: 0.7, danceability: 0.6, loudnessLufs: -10, dynamicComplexity: 3 }],
      ["Unanalysed", "Rock", 2005],
      ["Failed", "Rock", 2005],
    ]);
    await seedFailedAnalysis(app.db.pool, track.Failed!);
    await songs(bobPrivate, [["Bob secret", "Rock", 2004, { tempoBpm: 130, energy: 0.8, danceability: 0.7, loudnessLufs: -9 }]]);
    await songs(bobShared, [["Bob shared", "Rock", 2003, { tempoBpm: 140, energy: 0.75, danceability: 0.65, loudnessLufs: -11 }]]);
  });
  afterAll(async () => {
    await app?.close();
  });

  const create = async (client: TestClient, rules: Record<string, unknown>) => {
    const res = await client.post("/api/v1/playlists", { name: "Smart", rules });
    expect(res.status).toBe(201);
    return res.body;
  };
  const titles = async (client: TestClient, id: string) => {
    const { status, body } = await client.get(`/api/v1/playlists/${id}`);
    expect(status).toBe(200);
    return body.items.map((i: { title: string }) => i.title);
  };

  it("hold exactly the tracks every rule admits, in the rules' order, the owner's visible ones only", async () => {
    const pl = await create(alice, { tempo: { min: 120, max: 175 }, energy: { min: 0.6 }, genres: ["rock"], year: { min: 2000, max: 2010 }, sort: { by: "tempo" } });
    expect(pl).toMatchObject({ smart: true, privacy: "private", itemCount: 4, rules: { limit: 100, sort: { by: "tempo", order: "asc" } } });
    // Bob's private song meets every rule; Alice may not see it. Bob's instance-wide one she may.
    expect(await titles(alice, pl.id)).toEqual(["Mid", "Edge", "Bob shared", "Fast"]);

    const minor = await create(alice, { mode: "minor", sort: { by: "tempo", order: "desc" } });
    expect(await titles(alice, minor.id)).toEqual(["Edge", "Slow"]);
    const keys = await create(alice, { keys: ["C", "G"], mode: "major" });
    expect((await titles(alice, keys.id)).sort()).toEqual(["Fast", "Mid"]);
    const limited = await create(alice, { danceability: { max: 0.8 }, loudness: { min: -12, max: -8 }, sort: { by: "energy", order: "desc" }, limit: 2 });
    expect(await titles(alice, limited.id)).toEqual(["Fast", "Bob shared"]);
    // Without a rule on features, tracks not analysed (or failed) belong too.
    const rock = await create(alice, { genres: ["ROCK"], sort: { by: "title" } });
    expect(await titles(alice, rock.id)).toEqual(["Bob shared", "Edge", "Failed", "Fast", "Mid", "Unanalysed"]);
  });

  it("rate with the owner's own stars", async () => {
    await alice.request("PUT", `/api/v1/ratings/tracks/${track.Fast}`, { json: { rating: 5 } });
    await alice.request("PUT", `/api/v1/ratings/tracks/${track.Mid}`, { json: { rating: 3 } });
    await bob.request("PUT", `/api/v1/ratings/tracks/${track["Bob shared"]}`, { json: { rating: 5 } });
    const pl = await create(alice, { minRating: 4 });
    expect(await titles(alice, pl.id)).toEqual(["Fast"]);
    const three = await create(alice, { minRating: 3, sort: { by: "tempo", order: "desc" } });
    expect(await titles(alice, three.id)).toEqual(["Fast", "Mid"]);
  });

  it("keep a random order stable across reads: by a hash of the playlist's and the track's ids", async () => {
    const pl = await create(alice, { energy: { min: 0 }, sort: { by: "random" } });
    const first = await titles(alice, pl.id);
    expect(await titles(alice, pl.id)).toEqual(first);
    const hash = (title: string) => createHash("md5").update(pl.id + track[title]).digest("hex");
    expect(first).toEqual(["Slow", "Mid", "Fast", "Edge", "Bob shared"].sort((a, b) => (hash(a) < hash(b) ? -1 : 1)));
  });

  it("stay current: a track analysed after the playlist was made is in it on the next read", async () => {
    const pl = await create(alice, { tempo: { min: 100, max: 125 }, sort: { by: "tempo" } });
    expect(await titles(alice, pl.id)).toEqual(["Mid", "Edge"]);
    await seedFeatures(app.db.pool, track.Unanalysed!, { tempoBpm: 110, energy: 0.5, loudnessLufs: -14 });
    expect(await titles(alice, pl.id)).toEqual(["Unanalysed", "Mid", "Edge"]);
    expect((await alice.get(`/api/v1/playlists/${pl.id}`)).body.itemCount).toBe(3);
    // Its rules can change too; the list follows.
    const patched = await alice.request("PATCH", `/api/v1/playlists/${pl.id}`, { json: { rules: { tempo: { min: 150 } } } });
    expect(patched.status).toBe(200);
    expect(await titles(alice, pl.id)).toEqual(["Fast"]);
    await app.db.pool.query("DELETE FROM track_analysis WHERE track_id = $1", [track.Unanalysed]);
  });

  it("are their owner's alone: others see nothing, and the owner's rules never reach others' private tracks", async () => {
    const pl = await create(alice, { genres: ["rock"] });
    expect((await bob.get(`/api/v1/playlists/${pl.id}`)).status).toBe(404);
    expect((await bob.get("/api/v1/playlists?scope=visible")).body.items.map((p: { id: string }) => p.id)).not.toContain(pl.id);
    const bobs = await create(bob, { genres: ["rock"], sort: { by: "title" } });
    expect(await titles(bob, bobs.id)).toEqual(["Bob secret", "Bob shared"]);
    const shared = await alice.request("PATCH", `/api/v1/playlists/${pl.id}`, { json: { privacy: "instance" } });
    expect([shared.status, shared.body.error.code]).toEqual([400, "smart_playlist_private"]);
    const born = await alice.post("/api/v1/playlists", { name: "Public smart", privacy: "public", rules: { mode: "major" } });
    expect(born.status).toBe(400);
  });

  it("are listed with their current count, exported as files, and never published to other servers", async () => {
    const pl = await create(alice, { mode: "major", sort: { by: "tempo" } });
    const listed = (await alice.get("/api/v1/playlists?limit=200")).body.items.find((p: { id: string }) => p.id === pl.id);
    expect(listed).toMatchObject({ smart: true, itemCount: 2 });
    expect(listed.durationMs).toBeGreaterThan(2000);
    const m3u = await alice.get(`/api/v1/playlists/${pl.id}/export?format=m3u8`);
    expect(m3u.status).toBe(200);
    expect(m3u.body.indexOf("Mid")).toBeGreaterThan(0);
    expect(m3u.body.indexOf("Fast")).toBeGreaterThan(m3u.body.indexOf("Mid"));
    // Private: its actor answers like a missing one, so no other server can follow it.
    expect((await alice.get(new URL(pl.actorId).pathname, { accept: "application/activity+json" })).status).toBe(404);
  });

  it("refuse edits of their items with 403, and rules on an ordinary playlist with 409", async () => {
    const pl = await create(alice, { mode: "major" });
    const add = await alice.post(`/api/v1/playlists/${pl.id}/items`, { trackIds: [track.Slow] });
    expect([add.status, add.body.error.code]).toEqual([403, "smart_playlist"]);
    expect((await alice.request("DELETE", `/api/v1/playlists/${pl.id}/items`)).status).toBe(403);
    const plain = (await alice.post("/api/v1/playlists", { name: "Plain" })).body;
    expect(plain.smart).toBe(false);
    const patched = await alice.request("PATCH", `/api/v1/playlists/${plain.id}`, { json: { rules: { mode: "major" } } });
    expect([patched.status, patched.body.error.code]).toEqual([409, "not_smart"]);
  });

  it("validate rules, naming the field, with the JSON error shape", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ tempo: { min: 150, max: 100 } }, "rules.tempo.min"],
      [{ energy: { min: 1.5 } }, "rules.energy.min"],
      [{ keys: ["H"] }, "rules.keys.0"],
      [{ mode: "dorian" }, "rules.mode"],
      [{ minRating: 6 }, "rules.minRating"],
      [{ limit: 0 }, "rules.limit"],
      [{ sort: { by: "colour" } }, "rules.sort.by"],
      [{ year: { min: 1999.5 } }, "rules.year.min"],
      [{ valence: { min: 0.5 } }, "rules"],
    ];
    for (const [rules, path] of cases) {
      const res = await alice.post("/api/v1/playlists", { name: "Bad", rules });
      expect(res.status, JSON.stringify(rules)).toBe(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path), JSON.stringify(rules)).toContain(path);
    }
    expect((await alice.post("/api/v1/playlists", { name: "Bad", rules: "fast" })).status).toBe(400);
  });
});
