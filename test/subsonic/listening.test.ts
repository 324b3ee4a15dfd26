import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOW_PLAYING_FALLBACK_MS } from "../../core/listens/listens.service.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { apiClient, rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

describe("Subsonic scrobbles, listens and now playing", () => {
  let app: TestApp;
  let alice: Credentials;
  let bob: Credentials;
  let aliceClient: TestClient;
  const id: Record<string, string> = {};
  const call = (who: Credentials, method: string, params: Record<string, string | string[]> = {}) =>
    rest(app.url, method, { ...tokenParams(who), f: "json", ...params });
  const listens = async (trackId: string) =>
    (await app.db.pool.query("SELECT * FROM listen WHERE track_id = $1 ORDER BY listened_at", [trackId])).rows;
  const playCount = async (who: Credentials, trackId: string) => (await call(who, "getSong", { id: trackId })).json.song.playCount;

  beforeAll(async () => {
    app = await startTestApp();
    aliceClient = new TestClient(app.url);
    alice = await subsonicCredentials(aliceClient, "alice");
    const bobClient = new TestClient(app.url);
    bob = await subsonicCredentials(bobClient, "bob");
    // Both share their listens with the instance: each one's now playing is the other's to see (listen privacy).
    for (const client of [aliceClient, bobClient]) {
      expect((await client.request("PUT", "/api/v1/me/listens/privacy", { json: { privacy: "instance" } })).status).toBe(200);
    }
    // A long track: now playing must not lapse while the test runs.
    const song = (name: string, tags: Record<string, string>, seconds?: number) => ({ name, tags, seconds });
    const air = { ALBUM: "Moon Safari", ALBUMARTIST: "Air", ARTIST: "Air", DATE: "1998" };
    const shared = (await aliceClient.post("/api/v1/libraries", { name: "Shared", privacy: "instance" })).body.id;
    const mine = (await aliceClient.post("/api/v1/libraries", { name: "Mine" })).body.id;
    await seedTracks(app, shared, [
      song("drift", { ...air, TITLE: "La femme d'argent", TRACKNUMBER: "1" }, 300),
      song("zz", { ...air, TITLE: "Sexy Boy", TRACKNUMBER: "2" }),
    ]);
    await seedTracks(app, mine, [song("secret", { ALBUM: "Demos", ARTIST: "Los Lobos", TITLE: "Secret Song" })]);
    for (const r of (await app.db.pool.query("SELECT id, title FROM track")).rows) id[r.title] = r.id;
  });
  afterAll(async () => {
    await app?.close();
  });

  it("keeps submission=false as now playing, counts no play, and shows it to those who may see the track", async () => {
    const femme = id["La femme d'argent"]!;
    expect((await apiClient(app.url, { apiKey: alice.apiKey }).scrobble({ id: femme, submission: false })).status).toBe("ok");
    expect(await playCount(alice, femme)).toBe(0);
    expect(await listens(femme)).toEqual([]);
    // The same person on another player, with a private track: one entry per player.
    expect((await call(alice, "scrobble", { id: id["Secret Song"]!, submission: "false", c: "DSub" })).json.status).toBe("ok");

    const seenByBob = (await apiClient(app.url, { username: "bob", password: bob.password }).getNowPlaying()).nowPlaying;
    expect(seenByBob.entry).toHaveLength(1);
    expect(seenByBob.entry![0]).toMatchObject({ id: femme, title: "La femme d'argent", username: "alice", playerName: "subsonic-api", minutesAgo: 0, isDir: false });
    const forAlice = (await call(alice, "getNowPlaying")).json.nowPlaying.entry;
    expect(forAlice.map((e: { title: string; playerName: string }) => [e.title, e.playerName]).sort()).toEqual([
      ["La femme d'argent", "subsonic-api"],
      ["Secret Song", "DSub"],
    ]);
    for (const entry of forAlice) {
      expect(Number.isInteger(entry.playerId)).toBe(true);
      expect(Number.isInteger(entry.minutesAgo)).toBe(true);
      expect(typeof entry.id).toBe("string");
    }
    expect(new Set(forAlice.map((e: { playerId: number }) => e.playerId)).size).toBe(2);

    const bobJson = (await call(bob, "getNowPlaying")).json.nowPlaying;
    expect(Array.isArray(bobJson.entry)).toBe(true);
    const xml = (await rest(app.url, "getNowPlaying", tokenParams(bob))).text;
    expect(xml).toMatch(/<nowPlaying><entry id="[^"]+"[^>]*title="La femme d'argent"/);
    expect(xml).toMatch(/<entry [^>]*username="alice" minutesAgo="0" playerId="\d+" playerName="subsonic-api"/);
    expect(xml.match(/<entry /g)).toHaveLength(1);
  });

  it("lapses now playing after the track's duration, or 10 minutes when it is unknown", async () => {
    const femme = id["La femme d'argent"]!;
    const { rows } = await app.db.pool.query(
      `SELECT np.client, extract(epoch FROM np.expires_at - np.started_at) * 1000 AS lasts_ms, u.duration_ms
       FROM now_playing np JOIN upload u ON u.track_id = np.track_id WHERE np.track_id = $1`,
      [femme],
    );
    expect(Math.round(Number(rows[0].lasts_ms))).toBe(rows[0].duration_ms);
    expect(rows[0].duration_ms).toBeGreaterThan(290_000);

    // As if the track's time had passed: the entry is gone from the answer, then from the table.
    await app.db.pool.query("UPDATE now_playing SET expires_at = now() - interval '1 second' WHERE track_id = $1", [femme]);
    expect((await call(bob, "getNowPlaying")).json.nowPlaying).toEqual({ entry: [] });
    await app.db.pool.query("UPDATE upload SET duration_ms = NULL WHERE track_id = $1", [id["Sexy Boy"]]);
    await call(bob, "scrobble", { id: id["Sexy Boy"]!, submission: "false" });
    const left = await app.db.pool.query(
      "SELECT u.username, extract(epoch FROM expires_at - started_at) * 1000 AS lasts_ms FROM now_playing np JOIN app_user u ON u.id = np.user_id ORDER BY 1",
    );
    expect(left.rows.map((r) => [r.username, Math.round(Number(r.lasts_ms)) > 0])).toEqual([["alice", true], ["bob", true]]);
    expect(Math.round(Number(left.rows[1].lasts_ms))).toBe(NOW_PLAYING_FALLBACK_MS);
    expect((await call(alice, "getNowPlaying")).json.nowPlaying.entry.map((e: { title: string }) => e.title).sort()).toEqual(["Secret Song", "Sexy Boy"]);
  });

  it("counts submitted scrobbles at their own times, writes a listen each, and counts a resent one once", async () => {
    const [femme, boy] = [id["La femme d'argent"]!, id["Sexy Boy"]!];
    const [t1, t2] = [Date.parse("2024-03-01T20:00:00.000Z"), Date.parse("2024-03-01T20:05:00.000Z")];
    const batch = { id: [femme, boy], time: [String(t1), String(t2)] };
    expect((await call(alice, "scrobble", batch)).json.status).toBe("ok");
    expect((await call(alice, "scrobble", { ...batch, submission: "true" })).json.status).toBe("ok");
    expect(await playCount(alice, femme)).toBe(1);
    expect(await playCount(alice, boy)).toBe(1);
    const [listen] = await listens(femme);
    expect(listen).toMatchObject({
      track_name: "La femme d'argent", artist_name: "Air", release_name: "Moon Safari", source: "subsonic", client: "test", listened_ms: null,
    });
    expect(new Date(listen.listened_at).getTime()).toBe(t1);
    expect(listen.track_duration_ms).toBeGreaterThan(290_000);
    const { rows: [track] } = await app.db.pool.query("SELECT artist_id, album_id FROM track WHERE id = $1", [femme]);
    expect(listen).toMatchObject({ artist_id: track.artist_id, album_id: track.album_id });
    expect(new Date((await listens(boy))[0].listened_at).getTime()).toBe(t2);
    const song = (await call(alice, "getSong", { id: femme })).json.song;
    expect(song.played).toBe(new Date(t1).toISOString());

    // Through the client library (no time: now), and in XML.
    expect((await apiClient(app.url, { username: "alice", password: alice.password }).scrobble({ id: femme })).status).toBe("ok");
    expect((await rest(app.url, "scrobble", { ...tokenParams(alice), id: femme })).text).toMatch(/^<\?xml[^>]*>\n<subsonic-response [^>]*status="ok"[^>]*\/>$/);
    expect(await playCount(alice, femme)).toBe(3);
    expect((await listens(femme)).map((l) => l.client)).toEqual(["test", "subsonic-api", "test"]);
    // Another person's plays are theirs.
    expect(await playCount(bob, femme)).toBe(0);
  });

  it("records a listen from the REST plays route too", async () => {
    const boy = id["Sexy Boy"]!;
    const before = (await listens(boy)).length;
    const played = await aliceClient.post(`/api/v1/tracks/${boy}/plays`);
    expect(played.status).toBe(201);
    expect(played.body.playCount).toBe(2);
    const rows = await listens(boy);
    expect(rows).toHaveLength(before + 1);
    expect(rows.at(-1)).toMatchObject({ source: "web", client: null, track_name: "Sexy Boy" });
  });

  it("answers missing, malformed, unknown and invisible ids and bad times with the right codes", async () => {
    const secret = id["Secret Song"]!;
    expect((await call(bob, "scrobble")).json.error.code).toBe(10);
    expect((await call(bob, "scrobble", { id: "00000000-0000-4000-8000-000000000000" })).json.error.code).toBe(70);
    expect((await call(bob, "scrobble", { id: "tr-1" })).json.error.code).toBe(70);
    expect((await call(bob, "scrobble", { id: secret })).json.error.code).toBe(70);
    expect((await call(bob, "scrobble", { id: secret, submission: "false" })).json.error.code).toBe(70);
    expect((await call(bob, "scrobble", { id: id["Sexy Boy"]!, time: "yesterday" })).json.error.code).toBe(0);
    expect(await listens(secret)).toEqual([]);
    const xml = await rest(app.url, "scrobble", { ...tokenParams(bob), id: secret });
    expect(xml.text).toContain('<error code="70"');
    const failed = (await apiClient(app.url, { apiKey: bob.apiKey }).scrobble({ id: secret })) as { status: string; error?: { code: number } };
    expect(failed).toMatchObject({ status: "failed", error: { code: 70 } });
  });

  it("keeps listens, with their names, when the track goes", async () => {
    const boy = id["Sexy Boy"]!;
    const kept = (await listens(boy)).length;
    const { rows: uploads } = await app.db.pool.query("SELECT id FROM upload WHERE track_id = $1", [boy]);
    expect((await aliceClient.request("DELETE", `/api/v1/uploads/${uploads[0].id}`)).status).toBe(204);
    expect((await app.db.pool.query("SELECT 1 FROM track WHERE id = $1", [boy])).rowCount).toBe(0);
    const { rows } = await app.db.pool.query("SELECT track_id, artist_name, listened_at FROM listen WHERE track_name = 'Sexy Boy'");
    expect(rows).toHaveLength(kept);
    for (const row of rows) {
      expect(row).toMatchObject({ track_id: null, artist_name: "Air" });
      // A resent scrobble of the gone track is still the same play: the names decide, not the track.
      const again = await app.db.pool.query(
        `INSERT INTO listen (id, user_id, listened_at, track_name, artist_name, release_name, source)
         SELECT gen_random_uuid(), user_id, listened_at, track_name, artist_name, release_name, 'subsonic' FROM listen
         WHERE track_name = 'Sexy Boy' AND listened_at = $1 ON CONFLICT (user_id, listened_at, dedup_key) DO NOTHING`,
        [row.listened_at],
      );
      expect(again.rowCount).toBe(0);
      expect(new Date(row.listened_at).toISOString()).toMatch(ISO);
    }
  });
});
