import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { seedFailedAnalysis, seedFeatures } from "../helpers/analysis.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";

const MISSING = "00000000-0000-4000-8000-000000000000";

// Feature aggregates on seeded rows whose answers are worked out by hand. Alice has six tracks in a
// private library (four analysed, one pending, one failed); Bob one, with the most extreme values, which
// must never reach Alice's answers. Values are exact in float4 (the columns are real), so the means are exact.
let app: TestApp;
let alice: TestClient;
let bob: TestClient;
let anonymous: TestClient;
const t: Record<string, string> = {};
let library = "";
let shared = "";
let album = "";
let artist = "";

beforeAll(async () => {
  app = await startTestApp();
  alice = new TestClient(app.url);
  bob = new TestClient(app.url);
  anonymous = new TestClient(app.url);
  await alice.signup("alice");
  await bob.signup("bob");
  library = (await alice.post("/api/v1/libraries", { name: "Records", privacy: "private" })).body.id;
  shared = (await alice.post("/api/v1/libraries", { name: "Shared", privacy: "public" })).body.id;
  const bobs = (await bob.post("/api/v1/libraries", { name: "Bob's", privacy: "private" })).body.id;
  const tags = (title: string, albumTitle: string, date: string) => ({ tags: { TITLE: title, ARTIST: "The Testers", ALBUM: albumTitle, DATE: date } });
  const seeded = await seedTracks(app, library, [
    tags("One", "Fast", "2001"), tags("Two", "Fast", "2001"), tags("Three", "Fast", "2001"),
    tags("Four", "Slow", "2010"), tags("Pending", "Slow", "2010"), tags("Broken", "Slow", "2010"),
  ]);
  ["one", "two", "three", "four", "pending", "broken"].forEach((name, i) => (t[name] = seeded[i]!.trackId));
  t.bob = (await seedTracks(app, bobs, [{ tags: { TITLE: "Bob's Loud One", ARTIST: "Bob", ALBUM: "Bob", DATE: "1999" } }]))[0]!.trackId;
  const { pool } = app.db;
  await seedFeatures(pool, t.one!, { tempoBpm: 100, loudnessLufs: -10, energy: 0.25, danceability: 0.5, dynamicComplexity: 3, keyTonic: "C", keyMode: "major" });
  await seedFeatures(pool, t.two!, { tempoBpm: 140, loudnessLufs: -6, energy: 0.75, danceability: 0.875, dynamicComplexity: 5, keyTonic: "A", keyMode: "minor" });
  await seedFeatures(pool, t.three!, { tempoBpm: 120, loudnessLufs: -14, energy: 0.5, danceability: 0.125, dynamicComplexity: 4, keyTonic: "A", keyMode: "minor" });
  await seedFeatures(pool, t.four!, { tempoBpm: 60, loudnessLufs: -20, energy: 0.125, danceability: 0.375, dynamicComplexity: 8, keyTonic: "D", keyMode: "major" });
  await seedFailedAnalysis(pool, t.broken!, "ffmpeg: invalid data found when processing input");
  await seedFeatures(pool, t.bob!, { tempoBpm: 200, loudnessLufs: -1, energy: 1, danceability: 1, dynamicComplexity: 0.5, keyTonic: "B", keyMode: "minor" });
  ({ album_id: album, artist_id: artist } = (await pool.query("SELECT album_id, artist_id FROM track WHERE id = $1", [t.one])).rows[0]);
});
afterAll(() => app?.close());

describe("feature aggregates", () => {
  it("averages, spreads, extremes, keys, tempo bins and loudness by year of what Alice sees, exactly", async () => {
    const res = await alice.get("/api/v1/analysis/collection");
    expect(res.status).toBe(200);
    const s = res.body;
    expect([s.tracks, s.analysed]).toEqual([6, 4]);
    // Tempo 100, 140, 120, 60: mean 105, squared deviations 25 + 1225 + 225 + 2025 = 3500 over 4.
    expect(s.features.tempo).toEqual({ count: 4, mean: 105, stddev: Math.sqrt(875), min: 60, max: 140 });
    expect(s.features.loudness).toMatchObject({ count: 4, mean: -12.5, min: -20, max: -6 });
    expect(s.features.energy).toMatchObject({ mean: 0.40625, min: 0.125, max: 0.75 });
    expect(s.features.danceability).toMatchObject({ mean: 0.46875, min: 0.125, max: 0.875 });
    expect(s.features.dynamicComplexity).toMatchObject({ mean: 5, min: 3, max: 8 });
    const by = Object.fromEntries(s.superlatives.map((x: { kind: string; value: number; track: { id: string; title: string } }) =>
      [x.kind, [x.track.title, x.value]]));
    expect(by).toEqual({
      fastest: ["Two", 140], slowest: ["Four", 60], loudest: ["Two", -6], quietest: ["Four", -20],
      mostEnergetic: ["Two", 0.75], calmest: ["Four", 0.125], mostDanceable: ["Two", 0.875], leastDanceable: ["Three", 0.125],
      mostDynamic: ["Four", 8], leastDynamic: ["One", 3],
    });
    expect(s.superlatives[0].track).toMatchObject({ id: t.two, albumTitle: "Fast", artistName: "The Testers" });
    expect(s.modes).toEqual({ major: 2, minor: 2 });
    expect(s.keys).toHaveLength(24);
    expect(s.keys.filter((k: { count: number }) => k.count)).toEqual([
      { tonic: "C", mode: "major", count: 1 }, { tonic: "D", mode: "major", count: 1 }, { tonic: "A", mode: "minor", count: 2 },
    ]);
    expect(s.tempoHistogram.binBpm).toBe(5);
    expect(s.tempoHistogram.bins).toHaveLength(17); // 60 to 140, every 5
    expect(s.tempoHistogram.bins.filter((b: { count: number }) => b.count)).toEqual([60, 100, 120, 140].map((fromBpm) => ({ fromBpm, count: 1 })));
    expect(s.loudnessByYear).toEqual([{ year: 2001, tracks: 3, meanLufs: -10 }, { year: 2010, tracks: 1, meanLufs: -20 }]);
    expect(s.points.sampled).toBe(false);
    expect(s.points.items.map((p: { id: string; energy: number; danceability: number }) => [p.id, p.energy, p.danceability]).sort())
      .toEqual([[t.one, 0.25, 0.5], [t.two, 0.75, 0.875], [t.three, 0.5, 0.125], [t.four, 0.125, 0.375]].sort());
    expect(s.scope).toEqual({ kind: "collection", id: null, name: null });
  });

  it("answers the same for the library, and per album, artist and playlist from their own tracks", async () => {
    const whole = (await alice.get("/api/v1/analysis/collection")).body;
    const lib = await alice.get(`/api/v1/libraries/${library}/analysis`);
    expect(lib.status).toBe(200);
    expect({ ...lib.body, scope: null }).toEqual({ ...whole, scope: null });
    expect(lib.body.scope).toEqual({ kind: "library", id: library, name: "Records" });

    const fast = (await alice.get(`/api/v1/albums/${album}/analysis`)).body;
    expect([fast.scope.name, fast.tracks, fast.analysed, fast.features.tempo.mean]).toEqual(["Fast", 3, 3, 120]);
    expect(fast.loudnessByYear).toEqual([{ year: 2001, tracks: 3, meanLufs: -10 }]);
    const testers = (await alice.get(`/api/v1/artists/${artist}/analysis`)).body;
    expect([testers.scope.name, testers.tracks, testers.analysed]).toEqual(["The Testers", 6, 4]);

    const playlist = (await alice.post("/api/v1/playlists", { name: "Mix", privacy: "private" })).body.id;
    await alice.post(`/api/v1/playlists/${playlist}/items`, { trackIds: [t.four, t.one, t.four, t.pending] });
    const mix = (await alice.get(`/api/v1/playlists/${playlist}/analysis`)).body;
    // A track listed twice counts once: One and Four analysed, Pending not yet.
    expect([mix.tracks, mix.analysed, mix.features.tempo.mean, mix.superlatives[0].track.title]).toEqual([3, 2, 80, "One"]);

    // A smart playlist keeps no items: its scope is what its rules admit now (tempo 100-130: One and Three).
    const smart = await alice.post("/api/v1/playlists", { name: "Mid tempo", privacy: "private", rules: { tempo: { min: 100, max: 130 } } });
    expect(smart.status).toBe(201);
    const mid = (await alice.get(`/api/v1/playlists/${smart.body.id}/analysis`)).body;
    expect([mid.tracks, mid.analysed, mid.features.tempo.mean]).toEqual([2, 2, 110]);
  });

  it("never counts another user's private music, and follows each change at once", async () => {
    const theirs = (await bob.get("/api/v1/analysis/collection")).body;
    expect([theirs.tracks, theirs.analysed, theirs.superlatives[0].track.title]).toEqual([1, 1, "Bob's Loud One"]);
    expect((await anonymous.get("/api/v1/analysis/collection")).body).toMatchObject({ tracks: 0, analysed: 0, superlatives: [] });

    // Alice's track One also lands in her public library: Bob and anonymous visitors now see it; Alice still counts it once.
    await app.db.pool.query(
      `INSERT INTO upload (id, library_id, track_id, storage, path, original_name, size, status, imported_at, mime_type, duration_ms)
       SELECT $1, $2, track_id, storage, path || '.copy', original_name, size, 'finished', now(), mime_type, duration_ms FROM upload WHERE track_id = $3`,
      [randomUUID(), shared, t.one],
    );
    expect((await alice.get("/api/v1/analysis/collection")).body).toMatchObject({ tracks: 6, analysed: 4 });
    const both = (await bob.get("/api/v1/analysis/collection")).body;
    expect([both.tracks, both.analysed, both.features.tempo.mean]).toEqual([2, 2, 150]);
    const open = (await anonymous.get(`/api/v1/libraries/${shared}/analysis`)).body;
    expect([open.tracks, open.analysed, open.superlatives[0].track.title]).toEqual([1, 1, "One"]);

    // Analysed again (as a newer analyser would), and a pending track analysed: the next read has it.
    await seedFeatures(app.db.pool, t.one!, { tempoBpm: 180, loudnessLufs: -10, energy: 0.25, danceability: 0.5, dynamicComplexity: 3 });
    await seedFeatures(app.db.pool, t.pending!, { tempoBpm: 90, loudnessLufs: -8 });
    const now = (await alice.get("/api/v1/analysis/collection")).body;
    expect([now.analysed, now.features.tempo.max, now.superlatives[0].track.title]).toEqual([5, 180, "One"]);
    expect((await bob.get("/api/v1/analysis/collection")).body.features.tempo.mean).toBe(190);
    await app.db.pool.query("DELETE FROM upload WHERE library_id = $1", [shared]);
    expect((await bob.get("/api/v1/analysis/collection")).body.tracks).toBe(1);
  });

  it("answers a hidden scope exactly like a missing one", async () => {
    const playlist = (await alice.post("/api/v1/playlists", { name: "Secret", privacy: "private" })).body.id;
    for (const [path, id] of [["libraries", library], ["albums", album], ["artists", artist], ["playlists", playlist], ["tracks", t.two]] as const) {
      const hidden = await bob.get(`/api/v1/${path}/${id}/analysis`);
      const missing = await bob.get(`/api/v1/${path}/${MISSING}/analysis`);
      expect(hidden.status).toBe(404);
      expect(hidden.body).toEqual(missing.body);
      expect(hidden.body.error.code).toBe("not_found");
      expect((await anonymous.get(`/api/v1/${path}/${id}/analysis`)).status).toBe(404);
    }
  });

  it("refuses bad input with the JSON error shape", async () => {
    for (const query of ["points=many", "points=-1", "points=501", "unknown=1"]) {
      const res = await alice.get(`/api/v1/analysis/collection?${query}`);
      expect([query, res.status, res.body.error.code]).toEqual([query, 400, "invalid"]);
    }
    // A malformed id names nothing, as everywhere in this API (server/http/ids.ts): 404, not a 500.
    const malformed = await alice.get("/api/v1/albums/not-a-uuid/analysis");
    expect([malformed.status, malformed.body.error.code]).toEqual([404, "not_found"]);
    const few = (await alice.get("/api/v1/analysis/collection?points=2")).body.points;
    expect([few.items.length, few.sampled]).toEqual([2, true]);
  });

  it("gives one track's features, pending, or the reason it failed", async () => {
    const two = (await alice.get(`/api/v1/tracks/${t.two}/analysis`)).body;
    expect(two).toMatchObject({ trackId: t.two, status: "done", analyserVersion: "test-1", error: null });
    expect(two.features).toMatchObject({ tempoBpm: 140, keyTonic: "A", keyMode: "minor", loudnessLufs: -6, energy: 0.75, durationSeconds: 180 });
    const broken = (await alice.get(`/api/v1/tracks/${t.broken}/analysis`)).body;
    expect(broken).toMatchObject({ status: "failed", features: null, error: "ffmpeg: invalid data found when processing input" });
    expect((await alice.get(`/api/v1/tracks/${t.three}/analysis`)).body.status).toBe("done");
    await app.db.pool.query("DELETE FROM track_analysis WHERE track_id = $1", [t.three]);
    expect((await alice.get(`/api/v1/tracks/${t.three}/analysis`)).body).toEqual({ trackId: t.three, status: "pending", features: null });
  });
});
