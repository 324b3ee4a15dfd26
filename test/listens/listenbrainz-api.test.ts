import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";

// The ListenBrainz API as a scrobbler speaks it: raw HTTP, `Authorization: Token <token>`, JSON bodies.
describe("ListenBrainz API (/1/)", () => {
  let app: TestApp;
  let alice: TestClient;
  let token: string;
  const now = Math.floor(Date.now() / 1000);

  const lb = async (method: string, path: string, body?: unknown, auth: string | null = token) => {
    const res = await fetch(`${app.url}/1${path}`, {
      method,
      headers: { ...(auth ? { Authorization: `Token ${auth}` } : {}), ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  };
  const listen = (at: number, track = "Sexy Boy", extra: Record<string, unknown> = {}) =>
    ({ listened_at: at, track_metadata: { artist_name: "Air", track_name: track, release_name: "Moon Safari", additional_info: { submission_client: "test scrobbler", ...extra } } });
  const submit = (type: string, payload: unknown[], auth?: string | null) => lb("POST", "/submit-listens", { listen_type: type, payload }, auth);

  beforeAll(async () => {
    app = await startTestApp();
    alice = new TestClient(app.url);
    await alice.signup("alice");
    await new TestClient(app.url).signup("bob");
    token = (await alice.post("/api/v1/me/listens/token", {})).body.token;
  });
  afterAll(async () => {
    await app?.close();
  });

  it("hands out a listen token once, which validate-token names, and regenerating replaces it", async () => {
    expect(token).toMatch(/^[0-9a-f-]{36}$/);
    expect((await lb("GET", "/validate-token")).json).toEqual({ code: 200, message: "Token valid.", valid: true, user_name: "alice" });
    expect((await lb("GET", `/validate-token?token=${token}`, undefined, null)).json.valid).toBe(true);
    expect((await lb("GET", "/validate-token", undefined, null)))
      .toMatchObject({ status: 400, json: { code: 400, error: "You need to provide an Authorization token." } });
    const settings = (await alice.get("/api/v1/me/listens/settings")).body;
    expect(settings).toMatchObject({ privacy: "private", hasToken: true });
    expect(JSON.stringify(settings)).not.toContain(token);
    const old = token;
    token = (await alice.post("/api/v1/me/listens/token", {})).body.token;
    expect((await lb("GET", "/validate-token", undefined, old)).json).toEqual({ code: 200, message: "Token invalid.", valid: false });
  });

  it("takes single, import and playing_now submissions, keeping a resent listen once", async () => {
    const ok = await submit("single", [listen(now - 600)]);
    expect(ok).toMatchObject({ status: 200, json: { status: "ok" } });
    expect(ok.headers.get("x-ratelimit-limit")).toBe("300");
    expect(Number(ok.headers.get("x-ratelimit-remaining"))).toBeLessThan(300);
    expect(Number(ok.headers.get("x-ratelimit-reset-in"))).toBeGreaterThan(0);
    expect(Number(ok.headers.get("x-ratelimit-reset"))).toBeGreaterThan(now);
    const batch = Array.from({ length: 1000 }, (_, i) => listen(now - 86_400 * 3 - i * 60, `Track ${i % 7}`, { duration_ms: 200_000 }));
    expect((await submit("import", batch)).status).toBe(200);
    expect((await submit("import", [listen(now - 600)])).status).toBe(200);
    expect((await lb("GET", "/user/alice/listen-count")).json).toEqual({ payload: { count: 1001 } });

    expect((await submit("playing_now", [{ track_metadata: { artist_name: "Air", track_name: "Playground Love", additional_info: { duration: 200 } } }])).status).toBe(200);
    const playing = (await lb("GET", "/user/alice/playing-now")).json.payload;
    expect(playing).toMatchObject({ count: 1, user_id: "alice", playing_now: true, listens: [{ track_metadata: { track_name: "Playground Love", artist_name: "Air" } }] });
    expect(playing.listens[0].listened_at).toBeUndefined();
  });

  it("lists listens newest first between exclusive bounds, count capped, in LB's shape", async () => {
    const page = (await lb("GET", "/user/alice/listens?count=2")).json.payload;
    expect(page).toMatchObject({ user_id: "alice", count: 2, latest_listen_ts: now - 600 });
    expect(page.listens[0]).toMatchObject({
      listened_at: now - 600,
      user_name: "alice",
      recording_msid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      track_metadata: { artist_name: "Air", track_name: "Sexy Boy", release_name: "Moon Safari", additional_info: { submission_client: "test scrobbler" } },
    });
    const older = (await lb("GET", `/user/alice/listens?max_ts=${page.listens[1].listened_at}&count=3`)).json.payload.listens;
    expect(older.map((l: { listened_at: number }) => l.listened_at)).toEqual([1, 2, 3].map((k) => page.listens[1].listened_at - k * 60));
    const after = (await lb("GET", `/user/alice/listens?min_ts=${now - 86_400 * 3 - 120}&count=2`)).json.payload.listens;
    expect(after.map((l: { listened_at: number }) => l.listened_at)).toEqual([now - 86_400 * 3, now - 86_400 * 3 - 60]);
    expect((await lb("GET", "/user/alice/listens?count=5000")).json.payload.count).toBe(1000);
    expect((await lb("GET", "/user/alice/listens?min_ts=10&max_ts=5"))).toMatchObject({ status: 400, json: { code: 400, error: "max_ts should be greater than min_ts" } });
    expect((await lb("GET", "/user/alice/listens?count=x"))).toMatchObject({ status: 400, json: { error: "Invalid count argument: x" } });
  });

  it("answers statistics at once for every range, with count and offset, never a 204", async () => {
    const artists = await lb("GET", "/stats/user/alice/artists");
    expect(artists.status).toBe(200);
    expect(artists.json.payload).toMatchObject({ user_id: "alice", range: "all_time", count: 1, total_artist_count: 1, offset: 0, artists: [{ artist_name: "Air", listen_count: 1001 }] });
    const recordings = (await lb("GET", "/stats/user/alice/recordings?count=2&offset=1")).json.payload;
    expect(recordings).toMatchObject({ count: 2, total_recording_count: 8, offset: 1 });
    expect(recordings.recordings[0]).toMatchObject({ track_name: expect.stringMatching(/^Track /), artist_name: "Air", release_name: "Moon Safari" });
    expect((await lb("GET", "/stats/user/alice/releases")).json.payload.releases).toMatchObject([{ release_name: "Moon Safari", listen_count: 1001 }]);
    expect((await lb("GET", "/stats/user/alice/release-groups")).json.payload.release_groups).toMatchObject([{ release_group_name: "Moon Safari" }]);
    for (const range of ["this_week", "this_month", "this_year", "week", "month", "quarter", "year", "half_yearly", "all_time"]) {
      const res = await lb("GET", `/stats/user/alice/artists?range=${range}`);
      expect(res.status, range).toBe(200);
      expect(res.json.payload.range).toBe(range);
      expect(res.json.payload.to_ts).toBeGreaterThan(res.json.payload.from_ts);
    }
    expect(await lb("GET", "/stats/user/alice/artists?range=decade")).toMatchObject({ status: 400, json: { code: 400, error: "Invalid range: decade" } });
    expect(await lb("GET", "/stats/user/alice/artists?count=-1")).toMatchObject({ status: 400, json: { error: "'count' should be a non-negative integer" } });
    // Nothing last year: an empty 200, where ListenBrainz would answer 204.
    const empty = await lb("GET", "/stats/user/alice/artists?range=year");
    expect(empty).toMatchObject({ status: 200, json: { payload: { artists: [], count: 0, total_artist_count: 0 } } });

    const activity = (await lb("GET", "/stats/user/alice/listening-activity?range=all_time")).json.payload.listening_activity;
    expect(activity.reduce((n: number, a: { listen_count: number }) => n + a.listen_count, 0)).toBe(1001);
    const week = (await lb("GET", "/stats/user/alice/listening-activity?range=this_week")).json.payload.listening_activity;
    expect(week).toHaveLength(14);
    expect(week[0].time_range).toMatch(/^Monday \d+ \w+ \d{4}$/);
    const daily = (await lb("GET", "/stats/user/alice/daily-activity")).json.payload.daily_activity;
    expect(Object.keys(daily)).toEqual(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]);
    expect(Object.values(daily).flat().reduce((n: number, h) => n + (h as { listen_count: number }).listen_count, 0)).toBe(1001);
    const sitewide = (await lb("GET", "/stats/sitewide/artists")).json.payload;
    expect(sitewide).toMatchObject({ artists: [{ artist_name: "Air", listen_count: 1001 }], range: "all_time" });
    expect((await lb("GET", "/stats/sitewide/recordings?count=1")).json.payload.recordings).toHaveLength(1);
  });

  it("deletes a listen at once, statistics included", async () => {
    const [latest] = (await lb("GET", "/user/alice/listens?count=1")).json.payload.listens;
    expect((await lb("POST", "/delete-listen", { listened_at: latest.listened_at, recording_msid: latest.recording_msid })).json).toEqual({ status: "ok" });
    expect((await lb("GET", "/user/alice/listen-count")).json.payload.count).toBe(1000);
    expect((await lb("GET", "/stats/user/alice/artists")).json.payload.artists[0].listen_count).toBe(1000);
    expect(await lb("POST", "/delete-listen", { listened_at: 1 })).toMatchObject({ status: 400, json: { error: "Recording MSID missing." } });
    expect(await lb("POST", "/delete-listen", { recording_msid: latest.recording_msid })).toMatchObject({ status: 400, json: { error: "Listen timestamp missing." } });
    expect(await lb("POST", "/delete-listen", { listened_at: 1, recording_msid: "nope" })).toMatchObject({ status: 400, json: { error: "nope: Recording MSID format invalid." } });
  });

  it("keeps the import watermark, moving forward only", async () => {
    expect((await lb("GET", "/latest-import?user_name=alice")).json).toEqual({ musicbrainz_id: "alice", latest_import: 0 });
    expect((await lb("POST", "/latest-import", { ts: 1_700_000_000 })).json).toEqual({ status: "ok" });
    expect((await lb("POST", "/latest-import", { ts: 1_600_000_000 })).status).toBe(200);
    expect((await lb("GET", "/latest-import?user_name=alice")).json.latest_import).toBe(1_700_000_000);
    expect(await lb("POST", "/latest-import", { ts: "soon" })).toMatchObject({ status: 400, json: { error: "Invalid data sent" } });
    expect(await lb("POST", "/latest-import", { ts: 1 }, null)).toMatchObject({ status: 401, json: { error: "You need to provide an Authorization header." } });
  });
});
