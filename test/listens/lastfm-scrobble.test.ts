import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { PASSWORD, TestClient } from "../helpers/client.ts";
import { openEventStream } from "../helpers/sse.ts";
import { child, errorCode, lastfm, registerApp, type LfmApp } from "./lastfm-helpers.ts";

const RECORDING = "b1a9c0e9-d987-4042-ae91-78d6a3267d69";

describe("Last.fm /2.0/: scrobbles, now playing and user.getInfo", () => {
  let app: TestApp;
  let player: LfmApp;
  let other: LfmApp;
  let sk: string;
  let alice: TestClient;
  const now = () => Math.floor(Date.now() / 1000);
  const listens = async () =>
    (await app.db.pool.query(
      `SELECT l.artist_name, l.track_name, l.release_name, l.recording_mbid, l.track_duration_ms, l.client, l.source, extract(epoch FROM l.listened_at)::int AS ts
       FROM listen l JOIN app_user u ON u.id = l.user_id WHERE u.username = 'alice' ORDER BY l.listened_at, l.track_name`,
    )).rows;

  beforeAll(async () => {
    app = await startTestApp();
    alice = new TestClient(app.url);
    await alice.signup("alice");
    await new TestClient(app.url).signup("bob");
    player = await registerApp(alice, "Test Player");
    other = await registerApp(alice, "Other Player");
    sk = (await lastfm(app.url, { method: "auth.getMobileSession", username: "alice", password: PASSWORD, format: "json" }, { app: player })).json.session.key;
  });
  afterAll(async () => {
    await app?.close();
  });

  it("scrobbles a batch with name[i] parameters (indices sort as text: [10] before [1]) and ignores bad items with their codes", async () => {
    const t = now() - 600;
    const future = now() + 7200; // read once: the answer echoes it
    const reply = await lastfm(app.url, {
      method: "track.scrobble", sk,
      "artist[0]": "Air", "track[0]": "La femme d'argent", "timestamp[0]": String(t), "album[0]": "Moon Safari", "duration[0]": "431", "mbid[0]": RECORDING, "trackNumber[0]": "1",
      "artist[1]": "Air", "track[1]": "Sexy Boy", "timestamp[1]": String(t + 431), "albumArtist[1]": "Air", "duration[1]": "-3", "mbid[1]": "not-an-mbid",
      "artist[2]": "Air", "track[2]": "Old", "timestamp[2]": "1000000000",
      "artist[3]": "Air", "track[3]": "Future", "timestamp[3]": String(future),
      "artist[4]": "  ", "track[4]": "No artist", "timestamp[4]": String(t),
      "artist[10]": "Air", "track[10]": "", "timestamp[10]": String(t),
    }, { app: player });
    expect(reply.status).toBe(200);
    const scrobbles = child(reply.xml, "scrobbles");
    expect(scrobbles.attributes).toEqual({ accepted: "2", ignored: "4" });
    const items = scrobbles.children.map((s) => ({
      track: child(s, "track").text,
      corrected: child(s, "track").attributes.corrected,
      artist: child(s, "artist").text,
      album: child(s, "album").text,
      albumArtist: child(s, "albumArtist").text,
      timestamp: child(s, "timestamp").text,
      ignored: child(s, "ignoredMessage").attributes.code,
      message: child(s, "ignoredMessage").text,
    }));
    expect(items).toEqual([
      { track: "La femme d'argent", corrected: "0", artist: "Air", album: "Moon Safari", albumArtist: "", timestamp: String(t), ignored: "0", message: "" },
      { track: "Sexy Boy", corrected: "0", artist: "Air", album: "", albumArtist: "Air", timestamp: String(t + 431), ignored: "0", message: "" },
      { track: "Old", corrected: "0", artist: "Air", album: "", albumArtist: "", timestamp: "1000000000", ignored: "3", message: "Timestamp was too old" },
      { track: "Future", corrected: "0", artist: "Air", album: "", albumArtist: "", timestamp: String(future), ignored: "4", message: "Timestamp was too new" },
      { track: "No artist", corrected: "0", artist: "  ", album: "", albumArtist: "", timestamp: String(t), ignored: "1", message: "Artist was ignored" },
      { track: "", corrected: "0", artist: "Air", album: "", albumArtist: "", timestamp: String(t), ignored: "2", message: "Track was ignored" },
    ]);
    expect(await listens()).toEqual([
      { artist_name: "Air", track_name: "La femme d'argent", release_name: "Moon Safari", recording_mbid: RECORDING, track_duration_ms: 431_000, client: "Test Player", source: "lastfm", ts: t },
      // A nonsense duration and mbid are dropped; the listen still counts.
      { artist_name: "Air", track_name: "Sexy Boy", release_name: null, recording_mbid: null, track_duration_ms: null, client: "Test Player", source: "lastfm", ts: t + 431 },
    ]);
  });

  it("answers in JSON as Last.fm converts its XML (one scrobble is an object), and takes a resent scrobble as accepted without a second listen", async () => {
    const t = now() - 300;
    const params = { method: "track.scrobble", sk, artist: "Daft Punk", track: "Veridis Quo", timestamp: String(t), format: "json" };
    const reply = await lastfm(app.url, params, { app: player });
    expect(reply.json).toEqual({
      scrobbles: {
        scrobble: {
          track: { corrected: "0", "#text": "Veridis Quo" },
          artist: { corrected: "0", "#text": "Daft Punk" },
          album: { corrected: "0", "#text": "" },
          albumArtist: { corrected: "0", "#text": "" },
          timestamp: String(t),
          ignoredMessage: { code: "0", "#text": "" },
        },
        "@attr": { accepted: 1, ignored: 0 },
      },
    });
    const resent = await lastfm(app.url, params, { app: player });
    expect(resent.json.scrobbles["@attr"]).toEqual({ accepted: 1, ignored: 0 });
    expect((await listens()).filter((l) => l.track_name === "Veridis Quo")).toHaveLength(1);

    const two = await lastfm(app.url, { method: "track.scrobble", sk, format: "json",
      "artist[0]": "A", "track[0]": "One", "timestamp[0]": String(t - 100), "artist[1]": "A", "track[1]": "Two", "timestamp[1]": String(t - 50) }, { app: player });
    expect(two.json.scrobbles.scrobble).toHaveLength(2);
  });

  it("carries markup characters and any script through XML and JSON as sent", async () => {
    const t = now() - 200;
    const names = { artist: "Simon & Garfunkel", track: "Mrs. Robinson <live> \"1967\"", album: "Björk's 'Jóga' – 東京" };
    const xml = await lastfm(app.url, { method: "track.scrobble", sk, ...names, timestamp: String(t) }, { app: player });
    const scrobble = child(child(xml.xml, "scrobbles"), "scrobble");
    expect([child(scrobble, "artist").text, child(scrobble, "track").text, child(scrobble, "album").text]).toEqual([names.artist, names.track, names.album]);
    const json = await lastfm(app.url, { method: "track.updateNowPlaying", sk, ...names, format: "json" }, { app: player });
    expect(json.json.nowplaying.album["#text"]).toBe(names.album);
    expect((await listens()).find((l) => l.ts === t)).toMatchObject({ artist_name: names.artist, track_name: names.track, release_name: names.album });
  });

  it("refuses a batch with a missing field, a bad timestamp or more than 50 scrobbles (6), and keeps nothing of it", async () => {
    const before = (await listens()).length;
    const cases: Record<string, string>[] = [
      { "artist[0]": "A", "track[0]": "B", "timestamp[0]": String(now()), "artist[1]": "A", "track[1]": "C" },
      { "artist[0]": "A", "track[0]": "B", "timestamp[0]": "yesterday" },
      { "artist[50]": "A", "track[50]": "B", "timestamp[50]": String(now()) },
      {},
    ];
    for (const batch of cases) {
      const reply = await lastfm(app.url, { method: "track.scrobble", sk, ...batch }, { app: player });
      expect([reply.status, errorCode(reply)]).toEqual([400, 6]);
    }
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [
      [`artist[${i}]`, "Batch"], [`track[${i}]`, `Track ${i}`], [`timestamp[${i}]`, String(now() - 10_000 + i)],
    ]).flat());
    const reply = await lastfm(app.url, { method: "track.scrobble", sk, format: "json", ...fifty }, { app: player });
    expect(reply.json.scrobbles["@attr"]).toEqual({ accepted: 50, ignored: 0 });
    expect((await listens()).length).toBe(before + 50);
  });

  it("needs a POST, a signature and this application's session key: 3, 13, 9", async () => {
    const params = { method: "track.scrobble", artist: "A", track: "B", timestamp: String(now()) };
    expect(errorCode(await lastfm(app.url, { ...params, sk }, { app: player, get: true }))).toBe(3);
    expect(errorCode(await lastfm(app.url, { ...params, sk }, { app: player, sig: false }))).toBe(13);
    const noSession = await lastfm(app.url, params, { app: player });
    expect([noSession.status, errorCode(noSession)]).toEqual([403, 9]);
    expect(child(noSession.xml, "error").text).toBe("Invalid session key - Please re-authenticate");
    expect(errorCode(await lastfm(app.url, { ...params, sk: "0".repeat(32) }, { app: player }))).toBe(9);
    // A session key belongs to the application that asked for it.
    expect(errorCode(await lastfm(app.url, { ...params, sk }, { app: other }))).toBe(9);
    // A disabled person's sessions stop working.
    await app.db.pool.query("UPDATE app_user SET disabled_at = now() WHERE username = 'alice'");
    expect(errorCode(await lastfm(app.url, { ...params, sk }, { app: player }))).toBe(9);
    await app.db.pool.query("UPDATE app_user SET disabled_at = NULL WHERE username = 'alice'");
  });

  it("takes now playing (XML and JSON) and refuses it without artist or track", async () => {
    const stream = await openEventStream(alice);
    const reply = await lastfm(app.url, { method: "track.updateNowPlaying", sk, artist: "Air", track: "Talisman", album: "Moon Safari", duration: "256" }, { app: player });
    const nowPlaying = child(reply.xml, "nowplaying");
    expect(nowPlaying.children.map((c) => [c.name, c.text])).toEqual([
      ["track", "Talisman"], ["artist", "Air"], ["album", "Moon Safari"], ["albumArtist", ""], ["ignoredMessage", ""],
    ]);
    // The same now playing reaches the web UI live (event `now_playing`), lasting the track's duration. Read
    // before the next report replaces it (the stream reads the report when told of it).
    const event = await stream.waitFor((e) => e.event === "now_playing", 5000);
    stream.close();
    expect(event.data).toMatchObject({ username: "alice", playing: { trackName: "Talisman", artistName: "Air", client: "Test Player", durationMs: 256_000 } });
    const json = await lastfm(app.url, { method: "track.updateNowPlaying", sk, artist: "Air", track: "Talisman", format: "json" }, { app: player });
    expect(json.json.nowplaying).toMatchObject({ track: { corrected: "0", "#text": "Talisman" }, ignoredMessage: { code: "0", "#text": "" } });
    const blank = await lastfm(app.url, { method: "track.updateNowPlaying", sk, artist: "", track: "X", format: "json" }, { app: player });
    expect(blank.json.nowplaying.ignoredMessage).toEqual({ code: "1", "#text": "Artist was ignored" });
    expect(errorCode(await lastfm(app.url, { method: "track.updateNowPlaying", sk, artist: "Air" }, { app: player }))).toBe(6);
    const { rows } = await app.db.pool.query("SELECT client, track_name, artist_name, source FROM now_playing");
    expect(rows).toEqual([{ client: "Test Player", track_name: "Talisman", artist_name: "Air", source: "lastfm" }]);
  });

  it("tells about the session's person (user.getInfo), and about others as their listen privacy allows", async () => {
    const count = (await listens()).length;
    const reply = await lastfm(app.url, { method: "user.getInfo", sk }, { app: player, get: true, sig: false });
    const user = child(reply.xml, "user");
    expect(child(user, "name").text).toBe("alice");
    expect(child(user, "playcount").text).toBe(String(count));
    expect(child(user, "url").text).toBe("http://polyphony.test/people/alice");
    const registered = child(user, "registered");
    expect(Number(registered.attributes.unixtime)).toBeGreaterThan(now() - 600);
    const json = await lastfm(app.url, { method: "user.getInfo", user: "ALICE", sk, format: "json" }, { app: player, sig: false });
    expect(json.json.user).toMatchObject({ name: "alice", playcount: String(count), registered: { unixtime: registered.attributes.unixtime } });

    const info = async (params: Record<string, string>) =>
      (await lastfm(app.url, { method: "user.getInfo", format: "json", ...params }, { app: player, sig: false })).json;
    const notFound = { error: 6, message: "User not found" };
    // Private listens (the default), a name nobody has, or no name at all: the same answer.
    for (const params of [{ user: "bob", sk }, { user: "alice" }, { user: "nobody", sk }, {}] as Record<string, string>[]) {
      expect(await info(params)).toEqual(notFound);
    }
    await app.db.pool.query("UPDATE app_user SET listen_privacy = 'instance' WHERE username = 'bob'");
    expect((await info({ user: "bob", sk })).user).toMatchObject({ name: "bob", playcount: "0" });
    expect(await info({ user: "bob" })).toEqual(notFound);
    await app.db.pool.query("UPDATE app_user SET listen_privacy = 'public' WHERE username = 'bob'");
    expect((await info({ user: "bob" })).user.name).toBe("bob");
  });
});
