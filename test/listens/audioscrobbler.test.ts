import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { PASSWORD, TestClient } from "../helpers/client.ts";
import { lastfm, md5, registerApp } from "./lastfm-helpers.ts";

describe("AudioScrobbler 1.2: handshake, now playing and submissions", () => {
  let app: TestApp;
  let alice: TestClient;
  let password: string;
  const now = () => Math.floor(Date.now() / 1000);

  const get = async (path: string) => {
    const response = await fetch(new URL(path, app.url));
    return { status: response.status, type: response.headers.get("content-type") ?? "", lines: (await response.text()).split("\n") };
  };
  const handshake = (query: Record<string, string>, path = "/") => get(`${path}?${new URLSearchParams({ hs: "true", p: "1.2", c: "tst", v: "1.0", ...query })}`);
  const passwordHandshake = (user: string, secret: string, t = now()) => handshake({ u: user, t: String(t), a: md5(md5(secret) + t) });
  const post = async (url: string, form: Record<string, string>) => {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });
    return (await response.text()).split("\n");
  };
  /** The handshake gives public URLs (PUBLIC_URL is http://polyphony.test): the same paths on the test server. */
  const local = (url: string) => new URL(new URL(url).pathname, app.url).href;
  const listens = async () =>
    (await app.db.pool.query(
      `SELECT l.artist_name, l.track_name, l.release_name, l.track_duration_ms, l.client, l.source, extract(epoch FROM l.listened_at)::int AS ts
       FROM listen l JOIN app_user u ON u.id = l.user_id WHERE u.username = 'alice' ORDER BY l.listened_at`,
    )).rows;

  beforeAll(async () => {
    app = await startTestApp();
    alice = new TestClient(app.url);
    await alice.signup("alice");
    await new TestClient(app.url).signup("bob");
    const shown = (await alice.get("/api/v1/me/scrobbler")).body;
    expect(shown).toMatchObject({ username: "alice", handshakeUrl: "http://polyphony.test/audioscrobbler/" });
    password = shown.password;
  });
  afterAll(async () => {
    await app?.close();
  });

  it("shows one scrobbler password per person, sealed at rest", async () => {
    expect(password).toMatch(/^[\w-]{16}$/);
    expect((await alice.get("/api/v1/me/scrobbler")).body.password).toBe(password);
    expect((await new TestClient(app.url).get("/api/v1/me/scrobbler")).status).toBe(401);
    const { rows } = await app.db.pool.query("SELECT password_enc FROM scrobbler_password");
    expect(rows[0].password_enc).not.toContain(password);
  });

  it("hands out a session and the two URLs for md5(md5(password) + t), at / and at /audioscrobbler/", async () => {
    const t = now();
    const ok = await handshake({ u: "Alice", t: String(t), a: md5(md5(password) + t) });
    expect(ok.type).toContain("text/plain");
    expect(ok.lines).toEqual(["OK", expect.stringMatching(/^[0-9a-f]{32}$/), "http://polyphony.test/audioscrobbler/np_1.2", "http://polyphony.test/audioscrobbler/protocol_1.2", ""]);
    const elsewhere = await handshake({ u: "alice", t: String(t), a: md5(md5(password) + t).toUpperCase() }, "/audioscrobbler/");
    expect(elsewhere.lines[0]).toBe("OK");
    // Without hs=true the root is still the web UI's.
    expect((await get("/")).type).toContain("text/html");
  });

  it("answers BADAUTH, BADTIME and FAILED as the protocol says", async () => {
    expect((await passwordHandshake("alice", PASSWORD)).lines).toEqual(["BADAUTH", ""]);
    expect((await passwordHandshake("bob", password)).lines).toEqual(["BADAUTH", ""]);
    expect((await passwordHandshake("nobody", password)).lines).toEqual(["BADAUTH", ""]);
    expect((await passwordHandshake("alice", password, now() - 7200)).lines).toEqual(["BADTIME", ""]);
    expect((await handshake({ u: "alice", t: "soon", a: "x" })).lines).toEqual(["BADTIME", ""]);
    expect((await handshake({ p: "1.1", u: "alice", t: String(now()), a: "x" })).lines[0]).toMatch(/^FAILED Unsupported protocol version/);
    expect((await handshake({ u: "alice" })).lines[0]).toBe("FAILED Missing parameters: u, t and a are required");
  });

  it("takes now playing and a batch of submissions with the handshake's session", async () => {
    const [, session, npUrl, submitUrl] = (await passwordHandshake("alice", password)).lines as [string, string, string, string];
    expect(await post(local(npUrl), { s: session, a: "Air", t: "Talisman", b: "Moon Safari", l: "256", n: "4", m: "" })).toEqual(["OK", ""]);
    expect(await post(local(npUrl), { s: session, a: "Air" })).toEqual(["FAILED Invalid parameters - artist and track are required", ""]);
    const playing = await app.db.pool.query("SELECT client, track_name, release_name, duration_ms, source FROM now_playing");
    expect(playing.rows).toEqual([{ client: "tst", track_name: "Talisman", release_name: "Moon Safari", duration_ms: 256_000, source: "audioscrobbler" }]);

    const t = now() - 1000;
    const submitted = await post(local(submitUrl), {
      s: session,
      "a[0]": "Air", "t[0]": "Talisman", "i[0]": String(t), "o[0]": "P", "r[0]": "", "l[0]": "256", "b[0]": "Moon Safari", "n[0]": "4", "m[0]": "",
      "a[1]": "Air", "t[1]": "Skipped on radio", "i[1]": String(t + 256), "o[1]": "L", "r[1]": "S", "l[1]": "200", "b[1]": "", "n[1]": "", "m[1]": "",
      "a[2]": "Air", "t[2]": "Remember", "i[2]": String(t + 300), "o[2]": "P", "r[2]": "L", "l[2]": "154", "b[2]": "", "n[2]": "", "m[2]": "",
    });
    expect(submitted).toEqual(["OK", ""]);
    expect(await listens()).toEqual([
      { artist_name: "Air", track_name: "Talisman", release_name: "Moon Safari", track_duration_ms: 256_000, client: "tst", source: "audioscrobbler", ts: t },
      { artist_name: "Air", track_name: "Remember", release_name: null, track_duration_ms: 154_000, client: "tst", source: "audioscrobbler", ts: t + 300 },
    ]);
    expect(await post(local(submitUrl), { s: session, "a[0]": "Air", "t[0]": "No time" })).toEqual([
      "FAILED Invalid parameters - artist[0], track[0] and timestamp[0] are required", "",
    ]);
  });

  it("answers BADSESSION for an unknown or lapsed session, so the player handshakes again", async () => {
    const [, session, npUrl, submitUrl] = (await passwordHandshake("alice", password)).lines as [string, string, string, string];
    const track = { "a[0]": "Air", "t[0]": "Late", "i[0]": String(now()) };
    expect(await post(local(submitUrl), { s: "0".repeat(32), ...track })).toEqual(["BADSESSION", ""]);
    expect(await post(local(npUrl), { a: "Air", t: "x" })).toEqual(["BADSESSION", ""]);
    await app.db.pool.query("UPDATE audioscrobbler_session SET expires_at = now() - interval '1 second'");
    expect(await post(local(submitUrl), { s: session, ...track })).toEqual(["BADSESSION", ""]);
  });

  it("accepts the 1.2.1 web-service handshake: api_key, a Last.fm session key, and md5(secret + t)", async () => {
    const player = await registerApp(alice, "Old Player");
    const sk = (await lastfm(app.url, { method: "auth.getMobileSession", username: "alice", password: PASSWORD, format: "json" }, { app: player })).json.session.key;
    const t = now();
    const ok = await handshake({ p: "1.2.1", u: "alice", t: String(t), a: md5(player.secret + t), api_key: player.apiKey, sk });
    expect(ok.lines[0]).toBe("OK");
    const wrongSecret = await handshake({ p: "1.2.1", u: "alice", t: String(t), a: md5("nope" + t), api_key: player.apiKey, sk });
    expect(wrongSecret.lines[0]).toBe("BADAUTH");
    const someoneElse = await handshake({ p: "1.2.1", u: "bob", t: String(t), a: md5(player.secret + t), api_key: player.apiKey, sk });
    expect(someoneElse.lines[0]).toBe("BADAUTH");
  });

  it("stops taking the old password once a new one is made", async () => {
    const fresh = (await alice.post("/api/v1/me/scrobbler/regenerate")).body.password;
    expect(fresh).not.toBe(password);
    expect((await passwordHandshake("alice", password)).lines[0]).toBe("BADAUTH");
    expect((await passwordHandshake("alice", fresh)).lines[0]).toBe("OK");
    password = fresh;
  });
});
