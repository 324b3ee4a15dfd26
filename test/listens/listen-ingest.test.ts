import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTransaction } from "../../core/db/transaction.ts";
import { linkUnmatchedListens } from "../../core/listens/listen-ingest.ts";
import type { SubmittedListen } from "../../core/listens/listen-submission.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";

const RECORDING = "8f3471b5-7e6a-48da-86a9-c1c07a0f47ae";

describe("ListenIngest: one listen model for every source", () => {
  let app: TestApp;
  let alice: string;
  let bob: string;
  let mine: string;
  const id: Record<string, string> = {};
  const rows = async (userId: string) =>
    (await app.db.pool.query("SELECT * FROM listen WHERE user_id = $1 ORDER BY listened_at, track_name", [userId])).rows;
  const listen = (over: Partial<SubmittedListen>): SubmittedListen =>
    ({ listenedAt: new Date("2026-01-02T03:04:05Z"), artistName: "Air", trackName: "Sexy Boy", ...over });

  beforeAll(async () => {
    app = await startTestApp();
    const aliceClient = new TestClient(app.url);
    alice = (await aliceClient.signup("alice")).body.user.id;
    bob = (await new TestClient(app.url).signup("bob")).body.user.id;
    mine = (await aliceClient.post("/api/v1/libraries", { name: "Mine" })).body.id;
    const air = { ALBUM: "Moon Safari", ALBUMARTIST: "Air", ARTIST: "Air", DATE: "1998" };
    await seedTracks(app, mine, [
      { name: "boy", tags: { ...air, TITLE: "Sexy Boy", TRACKNUMBER: "2" }, seconds: 298 },
      { name: "femme", tags: { ...air, TITLE: "La femme d'argent", TRACKNUMBER: "1", MUSICBRAINZ_TRACKID: RECORDING }, seconds: 430 },
    ]);
    for (const r of (await app.db.pool.query("SELECT id, title FROM track")).rows) id[r.title] = r.id;
  });
  afterAll(async () => {
    await app?.close();
  });

  it("keeps the same listen once (a client resending), counting it once", async () => {
    const sink = app.deps.listenIngest;
    const first = await sink.submit(alice, [listen({}), listen({ artistName: "AIR", trackName: "sexy boy!" })], "listenbrainz");
    expect(first).toEqual({ accepted: 1, duplicates: 1 });
    expect(await sink.submit(alice, [listen({ client: "Pano Scrobbler" })], "lastfm")).toEqual({ accepted: 0, duplicates: 1 });
    const kept = await rows(alice);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ track_id: id["Sexy Boy"], source: "listenbrainz", track_name: "Sexy Boy" });
    const { rows: counts } = await app.db.pool.query("SELECT play_count FROM play_stat WHERE user_id = $1", [alice]);
    expect(counts).toEqual([{ play_count: 1 }]);
  });

  it("matches by MusicBrainz recording id whatever the names, then by names within 10 s of the length", async () => {
    const sink = app.deps.listenIngest;
    const at = (s: number) => new Date(Date.UTC(2026, 0, 3, 0, 0, s));
    await sink.submit(alice, [
      listen({ listenedAt: at(1), artistName: "Someone", trackName: "Other title", recordingMbid: RECORDING, client: "WebScrobbler" }),
      listen({ listenedAt: at(2), trackName: "Sexy Boy", durationMs: 306_000 }),
      listen({ listenedAt: at(3), trackName: "Sexy Boy", durationMs: 330_000 }),
      listen({ listenedAt: at(4), trackName: "Never Imported", durationMs: 200_000 }),
    ], "listenbrainz");
    const kept = (await rows(alice)).filter((r) => new Date(r.listened_at) >= at(0));
    expect(kept.map((r) => [r.track_name, r.track_id, r.client])).toEqual([
      ["Other title", id["La femme d'argent"], "WebScrobbler"],
      ["Sexy Boy", id["Sexy Boy"], null],
      // 32 s longer: another recording (a live or extended version) kept under its own names.
      ["Sexy Boy", null, null],
      ["Never Imported", null, null],
    ]);
    expect(kept[1]).toMatchObject({ artist_id: expect.any(String), album_id: expect.any(String) });
  });

  it("does not match a track the listener may not see", async () => {
    await app.deps.listenIngest.submit(bob, [listen({ recordingMbid: RECORDING })], "listenbrainz");
    expect((await rows(bob)).map((r) => r.track_id)).toEqual([null]);
  });

  it("links listens kept under their names when a matching track is imported", async () => {
    const at = new Date("2026-01-04T00:00:00Z");
    await app.deps.listenIngest.submit(alice, [listen({ listenedAt: at, artistName: "Air", trackName: "Kelly Watch the Stars" })], "import");
    const [kelly] = await seedTracks(app, mine, [{ name: "kelly", tags: { ALBUM: "Moon Safari", ALBUMARTIST: "Air", ARTIST: "Air", TITLE: "Kelly Watch the Stars" } }]);
    const linked = await withTransaction(app.db, ({ sql }) => linkUnmatchedListens(sql, [kelly!.trackId]));
    expect(linked).toBe(1);
    const { rows: found } = await app.db.pool.query("SELECT track_id, album_id FROM listen WHERE listened_at = $1", [at]);
    expect(found).toEqual([{ track_id: kelly!.trackId, album_id: expect.any(String) }]);
    // Bob's unmatched listen of a track he cannot see stays unmatched.
    expect(await withTransaction(app.db, ({ sql }) => linkUnmatchedListens(sql, [id["La femme d'argent"]!]))).toBe(0);
  });

  it("keeps what is playing now under its own names when no track matches", async () => {
    await app.deps.listenIngest.playingNow(bob, { artistName: "Nobody", trackName: "Unknown", durationMs: 60_000, client: "Navidrome" }, "listenbrainz");
    const { rows: now } = await app.db.pool.query("SELECT client, track_id, track_name, source FROM now_playing WHERE user_id = $1", [bob]);
    expect(now).toEqual([{ client: "Navidrome", track_id: null, track_name: "Unknown", source: "listenbrainz" }]);
  });

  it("routes the web player's plays through the same model", async () => {
    const client = new TestClient(app.url);
    await client.login("alice");
    const played = await client.post(`/api/v1/tracks/${id["Sexy Boy"]}/plays`, {});
    expect(played.status).toBe(201);
    expect(played.body.playCount).toBe(3);
    const web = (await rows(alice)).filter((r) => r.source === "web");
    expect(web).toMatchObject([{ track_id: id["Sexy Boy"], artist_name: "Air", release_name: "Moon Safari", track_duration_ms: 298_000 }]);
  });
});
