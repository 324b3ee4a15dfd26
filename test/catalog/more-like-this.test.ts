import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { seedFeatures, type FeatureSeed } from "../helpers/analysis.ts";
import { nearestTracks } from "../../core/analysis/more-like-this.ts";

// "More like this": nearest neighbours over z-scored features and the key on the circle of fifths.

const BASE: FeatureSeed = { tempoBpm: 120, keyTonic: "C", keyMode: "major", energy: 0.6, danceability: 0.7, loudnessLufs: -12, dynamicComplexity: 3 };

describe("more like this", () => {
  let app: TestApp;
  let alice: TestClient;
  let anonymous: TestClient;
  const track: Record<string, string> = {};
  let lib: string;

  const songs = async (library: string, list: [string, FeatureSeed | null][]) => {
    const seeded = await seedTracks(app, library, list.map(([TITLE]) => ({ tags: { TITLE, ALBUM: "Shapes", ARTIST: "Band" } })));
    for (const [i, [title, features]] of list.entries()) {
      track[title] = seeded[i]!.trackId;
      if (features) await seedFeatures(app.db.pool, seeded[i]!.trackId, features);
    }
  };

  beforeAll(async () => {
    app = await startTestApp();
    [alice, anonymous] = [new TestClient(app.url), new TestClient(app.url)];
    const bob = new TestClient(app.url);
    await alice.signup("alice");
    await bob.signup("bob");
    lib = (await alice.post("/api/v1/libraries", { name: "Alice's", privacy: "private" })).body.id;
    const bobs = (await bob.post("/api/v1/libraries", { name: "Bob's", privacy: "private" })).body.id;
    await songs(lib, [
      ["Query", BASE],
      // A minor sits where C major does on the circle of fifths: the same point.
      ["Twin", { ...BASE, keyTonic: "A", keyMode: "minor" }],
      // One fifth away: 2 sin(15°) on the unit circle.
      ["Near", { ...BASE, keyTonic: "G" }],
      ["Faster", { ...BASE, tempoBpm: 140 }],
      // The far side of the circle: 2 apart.
      ["Opposite", { ...BASE, keyTonic: "F#" }],
      ["Far", { tempoBpm: 180, keyTonic: "C", keyMode: "major", energy: 0.1, danceability: 0.1, loudnessLufs: -25, dynamicComplexity: 8 }],
      ["Unanalysed", null],
    ]);
    // Identical to Query, but Alice may not see it.
    await songs(bobs, [["Bob's twin", BASE]]);
  });
  afterAll(async () => {
    await app?.close();
  });

  const similar = (client: TestClient, title: string, query = "") => client.get(`/api/v1/tracks/${track[title]}/similar${query}`);

  it("lists the visible analysed tracks nearest first, with their distance", async () => {
    const { status, body } = await similar(alice, "Query");
    expect(status).toBe(200);
    expect(body.analysed).toBe(true);
    expect(body.items.map((t: { title: string }) => t.title)).toEqual(["Twin", "Near", "Faster", "Opposite", "Far"]);
    const distance = Object.fromEntries(body.items.map((t: { title: string; distance: number }) => [t.title, t.distance]));
    expect(distance.Twin).toBeCloseTo(0, 6);
    expect(distance.Near).toBeCloseTo(2 * Math.sin(Math.PI / 12), 6);
    expect(distance.Opposite).toBeCloseTo(2, 6);
    // 20 BPM over the standard deviation of every analysed track's tempo (Bob's included: the scale is the server's).
    const tempos = [120, 120, 120, 140, 120, 180, 120];
    const mean = tempos.reduce((a, b) => a + b) / tempos.length;
    const sd = Math.sqrt(tempos.reduce((a, b) => a + (b - mean) ** 2, 0) / tempos.length);
    expect(distance.Faster).toBeCloseTo(20 / sd, 4);
    expect(body.items[0].streamUrl).toBe(`/api/v1/tracks/${track.Twin}/stream`);
  });

  it("honours the limit and answers a track not analysed yet with no items", async () => {
    expect((await similar(alice, "Query", "?limit=2")).body.items.map((t: { title: string }) => t.title)).toEqual(["Twin", "Near"]);
    expect((await similar(alice, "Unanalysed")).body).toEqual({ analysed: false, items: [] });
    expect((await similar(alice, "Query", "?limit=0")).status).toBe(400);
  });

  it("treats a track the caller may not see like a missing one", async () => {
    expect((await similar(alice, "Bob's twin")).status).toBe(404);
    expect((await similar(anonymous, "Query")).status).toBe(404);
    expect((await alice.get("/api/v1/tracks/not-a-uuid/similar")).status).toBe(404);
  });

  it("ranks past invisible neighbours when fewer than a page of the nearest candidates are visible", async () => {
    // One candidate: Bob's twin (the nearest, hidden from Alice) fills it, so the ranking is redone over every track.
    const aliceId = (await app.db.pool.query("SELECT id FROM app_user WHERE username = 'alice'")).rows[0].id;
    const items = await nearestTracks(app.db.pool, aliceId, [track.Query!], 2, 1);
    expect(items!.map((n) => n.trackId)).toEqual([track.Twin, track.Near]);
  });

  it("scales by the current deviations: a track analysed since the last answer counts at once", async () => {
    const before = (await similar(alice, "Query")).body.items.find((t: { title: string }) => t.title === "Faster").distance;
    await songs(lib, [["Very fast", { ...BASE, tempoBpm: 240 }]]);
    const tempos = [120, 120, 120, 140, 120, 180, 120, 240];
    const mean = tempos.reduce((a, b) => a + b) / tempos.length;
    const sd = Math.sqrt(tempos.reduce((a, b) => a + (b - mean) ** 2, 0) / tempos.length);
    const after = (await similar(alice, "Query")).body.items.find((t: { title: string }) => t.title === "Faster").distance;
    expect(after).toBeCloseTo(20 / sd, 4);
    expect(after).not.toBeCloseTo(before, 2);
  });
});
