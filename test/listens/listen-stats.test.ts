import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SubmittedListen } from "../../core/listens/listen-submission.ts";
import { SITEWIDE_SCOPE } from "../../core/listens/listen-stats.service.ts";
import { STATS_RANGES, rangeBounds } from "../../core/listens/listen-ranges.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";

describe("live listening statistics", () => {
  let app: TestApp;
  let alice: string;
  let bob: string;
  const listen = (at: Date, over: Partial<SubmittedListen> = {}): SubmittedListen =>
    ({ listenedAt: at, artistName: "Air", trackName: "Sexy Boy", releaseName: "Moon Safari", ...over });
  const names = async (scope: string, kind: "artist" | "recording" | "release" | "release_group" | "genre", range = "all_time" as const) =>
    (await app.deps.listenStats.top(scope, kind, range, { count: 10, offset: 0 })).entities.map((e) => [e.name, e.listenCount]);

  beforeAll(async () => {
    app = await startTestApp();
    const client = new TestClient(app.url);
    alice = (await client.signup("alice")).body.user.id;
    bob = (await new TestClient(app.url).signup("bob")).body.user.id;
    const lib = (await client.post("/api/v1/libraries", { name: "Mine" })).body.id;
    await seedTracks(app, lib, [{ name: "boy", tags: { ALBUM: "Moon Safari", ALBUMARTIST: "Air", ARTIST: "Air", TITLE: "Sexy Boy", GENRE: "Electronic" } }]);
  });
  afterAll(async () => {
    await app?.close();
  });

  it("counts a listen the moment it is kept, per person and sitewide, and a batch in one statement", async () => {
    const now = new Date();
    await app.deps.listenIngest.submit(alice, [listen(now)], "listenbrainz");
    expect(await names(alice, "artist")).toEqual([["Air", 1]]);
    expect(await names(alice, "recording")).toEqual([["Sexy Boy", 1]]);
    expect(await names(alice, "release")).toEqual([["Moon Safari", 1]]);
    expect(await names(alice, "release_group")).toEqual([["Moon Safari", 1]]);
    expect(await names(alice, "genre")).toEqual([["Electronic", 1]]);
    const batch = Array.from({ length: 1000 }, (_, i) => listen(new Date(now.getTime() - (i + 1) * 1000), { trackName: `Track ${i % 10}`, artistName: i % 2 ? "Daft Punk" : "AIR" }));
    expect(await app.deps.listenIngest.submit(bob, batch, "import")).toEqual({ accepted: 1000, duplicates: 0 });
    // "Air" and "AIR" are one artist, under the name first reported (by anyone).
    expect(await names(bob, "artist")).toEqual([["Air", 500], ["Daft Punk", 500]]);
    expect(await names(SITEWIDE_SCOPE, "artist")).toEqual([["Air", 501], ["Daft Punk", 500]]);
  });

  it("answers every range from the rollups", async () => {
    const lastYear = new Date(Date.UTC(new Date().getUTCFullYear() - 1, 5, 15, 12));
    await app.deps.listenIngest.submit(alice, [listen(lastYear, { trackName: "Old One" })], "import");
    for (const range of STATS_RANGES) {
      const { from, to } = rangeBounds(range);
      const expected = [["Sexy Boy", new Date() >= from && new Date() < to ? 1 : 0], ["Old One", lastYear >= from && lastYear < to ? 1 : 0]]
        .filter(([, n]) => n);
      const got = await names(alice, "recording", range as "all_time");
      expect(got.sort(), range).toEqual(expected.sort());
    }
    const activity = await app.deps.listenStats.listeningActivity(alice, "all_time");
    expect(activity.buckets.map((b) => [b.from.getUTCFullYear(), b.listenCount])).toEqual([[lastYear.getUTCFullYear(), 1], [new Date().getUTCFullYear(), 1]]);
    const daily = await app.deps.listenStats.dailyActivity(alice, "all_time");
    expect(daily.hours.reduce((n, h) => n + h.listenCount, 0)).toBe(2);
  });

  it("takes deleted listens back out of every rollup", async () => {
    await app.db.pool.query("DELETE FROM listen WHERE user_id = $1 AND track_name = 'Sexy Boy'", [alice]);
    expect(await names(alice, "recording")).toEqual([["Old One", 1]]);
    expect(await names(alice, "genre")).toEqual([]);
    expect(await names(SITEWIDE_SCOPE, "artist")).toEqual([["Air", 501], ["Daft Punk", 500]]);
    const { rows } = await app.db.pool.query("SELECT count(*)::int AS n FROM listen_stat WHERE listen_count <= 0");
    expect(rows[0].n).toBe(0);
    const activity = await app.deps.listenStats.listeningActivity(alice, "all_time");
    expect(activity.buckets.map((b) => b.listenCount)).toEqual([1]);
  });
});
