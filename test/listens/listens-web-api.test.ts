import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { openEventStream, type EventStream } from "../helpers/sse.ts";
import { sleep, waitUntil } from "../helpers/wait.ts";
import { rest, tokenParams, type Credentials } from "../subsonic/helpers.ts";

// The web UI's listens API (issue 18 points 5, 8, 9): history pages and deleting, statistics by range,
// now playing from any source pushed over the events stream, each as the person's listen privacy allows.
describe("listens for the web UI (/api/v1)", () => {
  let app: TestApp;
  let alice: TestClient;
  let bob: TestClient;
  let aliceToken: string;
  let bobToken: string;
  const streams: EventStream[] = [];
  const now = Math.floor(Date.now() / 1000);

  const submit = async (token: string, body: unknown) => {
    const res = await fetch(`${app.url}/1/submit-listens`, {
      method: "POST",
      headers: { Authorization: `Token ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  };
  const playingNow = (token: string, track: Record<string, unknown>) =>
    submit(token, { listen_type: "playing_now", payload: [{ track_metadata: track }] });
  const open = async (client: TestClient) => {
    const stream = await openEventStream(client);
    streams.push(stream);
    return stream;
  };
  const setPrivacy = async (client: TestClient, privacy: string) =>
    expect((await client.request("PUT", "/api/v1/me/listens/privacy", { json: { privacy } })).status).toBe(200);

  beforeAll(async () => {
    app = await startTestApp();
    alice = new TestClient(app.url);
    bob = new TestClient(app.url);
    await alice.signup("alice");
    await bob.signup("bob");
    aliceToken = (await alice.post("/api/v1/me/listens/token", {})).body.token;
    bobToken = (await bob.post("/api/v1/me/listens/token", {})).body.token;
    // Five listens, two of them started in the same second (a page boundary must not skip either).
    await submit(aliceToken, {
      listen_type: "import",
      payload: [
        { listened_at: now - 500, track_metadata: { artist_name: "Air", track_name: "Sexy Boy", release_name: "Moon Safari" } },
        { listened_at: now - 400, track_metadata: { artist_name: "Air", track_name: "Kelly Watch the Stars", release_name: "Moon Safari" } },
        { listened_at: now - 300, track_metadata: { artist_name: "Air", track_name: "La femme d'argent", release_name: "Moon Safari" } },
        { listened_at: now - 300, track_metadata: { artist_name: "Daft Punk", track_name: "Da Funk", release_name: "Homework" } },
        { listened_at: now - 200, track_metadata: { artist_name: "Air", track_name: "Sexy Boy", release_name: "Moon Safari" } },
      ],
    });
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await app?.close();
  });

  it("pages through the whole history newest first, with no listen skipped or repeated", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: any } = await alice.get(`/api/v1/me/listens?count=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.listens.map((l: { listenedAt: number; trackName: string }) => `${now - l.listenedAt} ${l.trackName}`));
      cursor = res.body.next;
      pages++;
    } while (cursor && pages < 10);
    expect(seen.slice(0, 1)).toEqual(["200 Sexy Boy"]);
    expect(seen.slice(1, 3).sort()).toEqual(["300 Da Funk", "300 La femme d'argent"]);
    expect(seen.slice(3)).toEqual(["400 Kelly Watch the Stars", "500 Sexy Boy"]);
    expect((await alice.get("/api/v1/me/listens?cursor=nonsense")).body.error.code).toBe("invalid_cursor");
    expect((await alice.get("/api/v1/me/listens?count=0")).status).toBe(400);
    expect((await new TestClient(app.url).get("/api/v1/me/listens")).status).toBe(401);
  });

  it("answers top entities, activity and the weekday x hour grid, live after each listen", async () => {
    const top = await alice.get("/api/v1/people/alice/listen-stats/top?kind=artist&range=this_week");
    expect(top.status).toBe(200);
    // this_week may hold fewer on a Monday just after midnight; all_time holds them all.
    const all = await alice.get("/api/v1/people/alice/listen-stats/top?kind=artist&range=all_time");
    expect(all.body.entities.map((e: { name: string; listenCount: number }) => [e.name, e.listenCount])).toEqual([["Air", 4], ["Daft Punk", 1]]);
    expect(all.body.total).toBe(2);
    const tracks = await alice.get("/api/v1/people/alice/listen-stats/top?kind=recording&count=1");
    expect(tracks.body.entities).toEqual([expect.objectContaining({ name: "Sexy Boy", artistName: "Air", listenCount: 2 })]);
    const activity = await alice.get("/api/v1/people/alice/listen-stats/activity?range=this_year");
    expect(activity.body.unit).toBe("month");
    expect(activity.body.buckets.reduce((n: number, b: { listenCount: number }) => n + b.listenCount, 0)).toBe(5);
    const daily = await alice.get("/api/v1/people/alice/listen-stats/daily?range=all_time");
    expect(daily.body.hours.reduce((n: number, h: { listenCount: number }) => n + h.listenCount, 0)).toBe(5);
    expect((await alice.get("/api/v1/people/alice/listen-stats/top?range=forever")).status).toBe(400);
    expect((await alice.get("/api/v1/people/alice/listen-stats/top?kind=genre&range=week")).status).toBe(400);
  });

  it("deletes one listen, and it leaves the statistics at once; a listen that is not there is a 404", async () => {
    const first = (await alice.get("/api/v1/me/listens?count=1")).body.listens[0];
    const key = { listenedAt: first.listenedAt, recordingMsid: first.recordingMsid };
    expect((await bob.request("DELETE", "/api/v1/me/listens", { json: key })).status).toBe(404);
    expect((await alice.request("DELETE", "/api/v1/me/listens", { json: key })).status).toBe(204);
    expect((await alice.request("DELETE", "/api/v1/me/listens", { json: key })).body.error.code).toBe("not_found");
    expect((await alice.request("DELETE", "/api/v1/me/listens", { json: { listenedAt: "x" } })).status).toBe(400);
    const all = await alice.get("/api/v1/people/alice/listen-stats/top?kind=artist");
    expect(all.body.entities[0]).toMatchObject({ name: "Air", listenCount: 3 });
    expect((await alice.get("/api/v1/me/listens")).body.listens).toHaveLength(4);
  });

  it("statistics follow listen privacy: private is a 404 for others, as for nobody", async () => {
    const path = "/api/v1/people/alice/listen-stats/top";
    const nobody = await bob.get("/api/v1/people/nobody/listen-stats/top");
    expect(nobody.status).toBe(404);
    const hidden = await bob.get(path);
    expect(hidden).toMatchObject({ status: 404, body: nobody.body });
    expect((await alice.get(path)).status).toBe(200);
    await setPrivacy(alice, "instance");
    expect((await bob.get(path)).status).toBe(200);
    expect((await bob.get("/api/v1/people/alice/listen-stats/daily")).status).toBe(200);
    expect((await new TestClient(app.url).get(path)).status).toBe(401);
    await setPrivacy(alice, "private");
  });

  it("pushes now playing from /1/ to those who may see it, and lists it; unmatched tracks by their names", async () => {
    await setPrivacy(bob, "instance");
    const aliceStream = await open(alice);
    const bobStream = await open(bob);
    // Alice's listens are private: only her own stream hears of her playing.
    await playingNow(aliceToken, { artist_name: "Boards of Canada", track_name: "Roygbiv", additional_info: { duration_ms: 150_000 } });
    const own = await aliceStream.waitFor((e) => e.event === "now_playing" && e.data.username === "alice", 5000);
    expect(own.data.playing).toMatchObject({ trackName: "Roygbiv", artistName: "Boards of Canada", trackId: null, durationMs: 150_000 });
    const lapse = Date.parse(own.data.playing.expiresAt) - Date.parse(own.data.playing.startedAt);
    expect(lapse).toBe(150_000);
    // Bob shares with the instance: Alice hears of his playing.
    await playingNow(bobToken, { artist_name: "Stereolab", track_name: "French Disko" });
    await aliceStream.waitFor((e) => e.event === "now_playing" && e.data.username === "bob", 5000);
    await bobStream.waitFor((e) => e.event === "now_playing" && e.data.username === "bob", 5000);
    await sleep(300);
    expect(bobStream.events.filter((e) => e.event === "now_playing" && e.data.username === "alice")).toEqual([]);

    const forAlice = (await alice.get("/api/v1/now-playing")).body;
    expect(forAlice.map((n: { username: string }) => n.username).sort()).toEqual(["alice", "bob"]);
    expect((await bob.get("/api/v1/now-playing")).body.map((n: { username: string }) => n.username)).toEqual(["bob"]);

    // Alice now shares with the instance: Bob hears of her next track.
    await setPrivacy(alice, "instance");
    await playingNow(aliceToken, { artist_name: "Boards of Canada", track_name: "Aquarius" });
    const shared = await bobStream.waitFor((e) => e.event === "now_playing" && e.data.playing?.trackName === "Aquarius", 5000);
    expect(shared.data.username).toBe("alice");
    expect((await bob.get("/api/v1/now-playing")).body.map((n: { username: string }) => n.username).sort()).toEqual(["alice", "bob"]);
  });

  it("tells the person's own streams of their new listens (event `listens`), nobody else's", async () => {
    const [aliceStream, bobStream] = [await open(alice), await open(bob)];
    await submit(aliceToken, { listen_type: "single", payload: [{ listened_at: now - 100, track_metadata: { artist_name: "Air", track_name: "Ce matin-là" } }] });
    await aliceStream.waitFor((e) => e.event === "listens", 5000);
    // A resent listen adds nothing: no event.
    const before = aliceStream.events.length;
    await submit(aliceToken, { listen_type: "single", payload: [{ listened_at: now - 100, track_metadata: { artist_name: "Air", track_name: "Ce matin-là" } }] });
    await sleep(500);
    expect(aliceStream.events.slice(before).filter((e) => e.event === "listens")).toEqual([]);
    expect(bobStream.events.filter((e) => e.event === "listens")).toEqual([]);
    // A deletion too (from any tab or scrobbler): the statistics shown change.
    const first = (await alice.get("/api/v1/me/listens?count=1")).body.listens[0];
    const seen = aliceStream.events.length;
    expect((await alice.request("DELETE", "/api/v1/me/listens", { json: { listenedAt: first.listenedAt, recordingMsid: first.recordingMsid } })).status).toBe(204);
    await waitUntil(() => aliceStream.events.slice(seen).find((e) => e.event === "listens"), { timeout: 5000, what: "a listens event" });
  });

  it("Subsonic getNowPlaying shows the same reports with a catalog track, by the same privacy", async () => {
    const aliceSub = (await alice.get("/api/v1/me/subsonic")).body as Credentials;
    const bobSub = (await bob.get("/api/v1/me/subsonic")).body as Credentials;
    const library = (await alice.post("/api/v1/libraries", { name: "Shared", privacy: "instance" })).body.id;
    await seedTracks(app, library, [{ name: "teardrop", tags: { ARTIST: "Massive Attack", ALBUM: "Mezzanine", TITLE: "Teardrop" } }]);
    const entries = async (who: Credentials) =>
      ((await rest(app.url, "getNowPlaying", { ...tokenParams(who), f: "json" })).json.nowPlaying.entry ?? [])
        .map((e: { username: string; title: string }) => `${e.username}: ${e.title}`);
    await setPrivacy(alice, "private");
    await playingNow(aliceToken, { artist_name: "Massive Attack", track_name: "Teardrop" });
    // Bob's "French Disko" matched no track: Subsonic needs a song, so it is left out for everyone.
    expect(await entries(aliceSub)).toEqual(["alice: Teardrop"]);
    expect(await entries(bobSub)).toEqual([]);
    await setPrivacy(alice, "instance");
    expect(await entries(bobSub)).toEqual(["alice: Teardrop"]);
    const web = (await bob.get("/api/v1/now-playing")).body;
    expect(web.find((n: { username: string }) => n.username === "alice")).toMatchObject({ trackName: "Teardrop", trackId: expect.any(String) });

    // The web player reports a catalog track it plays: the same now playing, live, on both sides.
    const bobStream = await open(bob);
    const trackId = web.find((n: { username: string }) => n.username === "alice").trackId as string;
    expect((await alice.post(`/api/v1/tracks/${trackId}/now-playing`)).status).toBe(204);
    const pushed = await bobStream.waitFor((e) => e.event === "now_playing" && e.data.playing?.client === "Polyphony web", 5000);
    expect(pushed.data).toMatchObject({ username: "alice", playing: { trackId, trackName: "Teardrop", artistName: "Massive Attack", releaseName: "Mezzanine" } });
    expect((await entries(bobSub)).filter((e: string) => e === "alice: Teardrop")).toHaveLength(2); // her two players
    // A track Bob may not see is answered as a missing one.
    const secret = (await bob.post("/api/v1/libraries", { name: "Bob's own" })).body.id;
    const [hidden] = await seedTracks(app, secret, [{ name: "hidden", tags: { ARTIST: "Bob", TITLE: "Hidden" } }]);
    expect((await alice.post(`/api/v1/tracks/${hidden!.trackId}/now-playing`)).status).toBe(404);
    expect((await alice.post("/api/v1/tracks/not-an-id/now-playing")).body.error.code).toBe("not_found");
  });
});
