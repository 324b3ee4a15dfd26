import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteExpiredScrobblerGrants } from "../../core/lastfm/lastfm-auth.service.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { PASSWORD, TestClient } from "../helpers/client.ts";
import { child, errorCode, lastfm, registerApp, sign, type LfmApp } from "./lastfm-helpers.ts";

describe("Last.fm /2.0/: applications, tokens, sessions and signatures", () => {
  let app: TestApp;
  let admin: TestClient;
  let alice: TestClient;
  let bob: TestClient;
  let player: LfmApp;

  beforeAll(async () => {
    app = await startTestApp();
    admin = new TestClient(app.url);
    expect((await admin.signup("carol")).status).toBe(201);
    alice = new TestClient(app.url);
    await alice.signup("alice");
    bob = new TestClient(app.url);
    await bob.signup("bob");
    player = await registerApp(alice, "Test Player");
  });
  afterAll(async () => {
    await app?.close();
  });

  it("registers applications with Last.fm-shaped keys, shows secrets to their owner only, and seals them at rest", async () => {
    expect(player).toMatchObject({ name: "Test Player", ownerUsername: "alice" });
    expect(player.apiKey).toMatch(/^[0-9a-f]{32}$/);
    expect(player.secret).toMatch(/^[0-9a-f]{32}$/);
    expect((await alice.get("/api/v1/lastfm/apps")).body.items).toEqual([player]);
    expect((await bob.get("/api/v1/lastfm/apps")).body.items).toEqual([]);
    expect((await bob.get("/api/v1/lastfm/apps?all=true")).status).toBe(403);
    const allReply = await admin.get("/api/v1/lastfm/apps?all=true");
    expect(allReply.status, JSON.stringify(allReply.body)).toBe(200);
    const all = allReply.body.items;
    expect(all).toEqual([{ id: player.id, name: "Test Player", apiKey: player.apiKey, ownerUsername: "alice", createdAt: player.createdAt }]);
    const { rows } = await app.db.pool.query("SELECT secret_enc FROM lastfm_application WHERE id = $1", [player.id]);
    expect(rows[0].secret_enc).toMatch(/^v1:/);
    expect(rows[0].secret_enc).not.toContain(player.secret);
    expect((await alice.post("/api/v1/lastfm/apps", { name: "" })).status).toBe(400);
    expect((await new TestClient(app.url).post("/api/v1/lastfm/apps", { name: "x" })).status).toBe(401);
    // Someone else's application is not there for them; a malformed id names nothing.
    expect((await bob.request("DELETE", `/api/v1/lastfm/apps/${player.id}`)).status).toBe(404);
    expect((await bob.request("DELETE", "/api/v1/lastfm/apps/nope")).status).toBe(404);
  });

  it("answers the desktop flow: getToken, approval in the browser, getSession (XML), once per token", async () => {
    const tokenReply = await lastfm(app.url, { method: "auth.getToken" }, { app: player, get: true });
    expect(tokenReply.status).toBe(200);
    expect(tokenReply.type).toContain("text/xml");
    expect(tokenReply.xml!.attributes.status).toBe("ok");
    const token = child(tokenReply.xml, "token").text;
    expect(token).toMatch(/^[0-9a-f]{32}$/);

    const unapproved = await lastfm(app.url, { method: "auth.getSession", token }, { app: player, get: true });
    expect([unapproved.status, errorCode(unapproved)]).toEqual([403, 14]);

    // Last.fm's approval address under our root leads to the web UI's page, keeping the two values.
    const redirect = await fetch(new URL(`/api/auth/?api_key=${player.apiKey}&token=${token}&other=x`, app.url), { redirect: "manual" });
    expect([redirect.status, redirect.headers.get("location")]).toEqual([302, `/lastfm/auth?api_key=${player.apiKey}&token=${token}`]);
    // The approval page's REST calls: which application asks, then yes.
    const query = `api_key=${player.apiKey}&token=${token}`;
    expect((await new TestClient(app.url).get(`/api/v1/lastfm/auth?${query}`)).status).toBe(401);
    expect((await bob.get(`/api/v1/lastfm/auth?${query}`)).body).toEqual({ applicationName: "Test Player" });
    expect((await bob.get(`/api/v1/lastfm/auth?api_key=${player.apiKey}&token=ffff`)).status).toBe(404);
    expect((await bob.post("/api/v1/lastfm/auth", { apiKey: player.apiKey, token })).status).toBe(204);
    // Approved once: nobody else can take it over.
    expect((await alice.post("/api/v1/lastfm/auth", { apiKey: player.apiKey, token })).status).toBe(404);

    const reply = await lastfm(app.url, { method: "auth.getSession", token }, { app: player, get: true });
    const session = child(reply.xml, "session");
    expect(child(session, "name").text).toBe("bob");
    expect(child(session, "key").text).toMatch(/^[0-9a-f]{32}$/);
    expect(child(session, "subscriber").text).toBe("0");
    const { rows } = await app.db.pool.query("SELECT key_hash FROM lastfm_session");
    expect(rows.map((r) => r.key_hash)).not.toContain(child(session, "key").text);

    const again = await lastfm(app.url, { method: "auth.getSession", token }, { app: player, get: true });
    expect([again.status, errorCode(again)]).toEqual([403, 4]);
  });

  it("says a token has expired (15) after its hour, and refuses a token of another application (4)", async () => {
    const token = child((await lastfm(app.url, { method: "auth.getToken" }, { app: player })).xml, "token").text;
    await bob.post("/api/v1/lastfm/auth", { apiKey: player.apiKey, token });
    const other = await registerApp(bob, "Other");
    const wrongApp = await lastfm(app.url, { method: "auth.getSession", token, format: "json" }, { app: other });
    expect(wrongApp.json).toEqual({ error: 4, message: "Invalid authentication token supplied" });
    await app.db.pool.query("UPDATE lastfm_token SET expires_at = now() - interval '1 second'");
    const expired = await lastfm(app.url, { method: "auth.getSession", token, format: "json" }, { app: player });
    expect(expired.json).toEqual({ error: 15, message: "This token has expired" });
    // The approval page no longer offers it either, and the hourly cleanup removes it.
    expect((await bob.get(`/api/v1/lastfm/auth?api_key=${player.apiKey}&token=${token}`)).status).toBe(404);
    expect(await deleteExpiredScrobblerGrants(app.db.pool)).toBeGreaterThan(0);
    expect((await app.db.pool.query("SELECT count(*)::int AS n FROM lastfm_token")).rows[0].n).toBe(0);
  });

  it("opens a mobile session with username and password (POST only, JSON too) and refuses a wrong password with 4", async () => {
    const reply = await lastfm(app.url, { method: "auth.getMobileSession", username: "Alice", password: PASSWORD, format: "json" }, { app: player });
    expect(reply.status).toBe(200);
    expect(reply.type).toContain("application/json");
    expect(reply.json.session).toMatchObject({ name: "alice", subscriber: 0 });
    expect(reply.json.session.key).toMatch(/^[0-9a-f]{32}$/);

    const wrong = await lastfm(app.url, { method: "auth.getMobileSession", username: "alice", password: "nope" }, { app: player });
    expect([wrong.status, errorCode(wrong)]).toEqual([403, 4]);
    const unknown = await lastfm(app.url, { method: "auth.getMobileSession", username: "nobody", password: "nope", format: "json" }, { app: player });
    expect(unknown.json).toEqual(wrong.xml && { error: 4, message: child(wrong.xml, "error").text });
    const byGet = await lastfm(app.url, { method: "auth.getMobileSession", username: "alice", password: PASSWORD }, { app: player, get: true });
    expect([byGet.status, errorCode(byGet)]).toEqual([400, 3]);
    const missing = await lastfm(app.url, { method: "auth.getMobileSession", username: "alice" }, { app: player });
    expect([missing.status, errorCode(missing)]).toEqual([400, 6]);
    // Password guesses count against the login limit: past it, Last.fm's rate-limit error.
    await app.db.pool.query("INSERT INTO rate_limit (key, window_start, hits) VALUES ('login:user:alice', now(), 1000) ON CONFLICT (key) DO UPDATE SET hits = 1000, window_start = now()");
    const locked = await lastfm(app.url, { method: "auth.getMobileSession", username: "alice", password: PASSWORD, format: "json" }, { app: player });
    expect([locked.status, locked.json.error]).toEqual([429, 29]);
    await app.db.pool.query("DELETE FROM rate_limit WHERE key = 'login:user:alice'");
  });

  it("checks api_sig as documented: sorted names, no format or callback, the secret last; any change fails with 13", async () => {
    const params = { method: "auth.getToken", api_key: player.apiKey, format: "json", callback: "cb" };
    // Signed without format and callback: still good, and answered as JSONP.
    const jsonp = await lastfm(app.url, params, { sig: sign({ method: "auth.getToken", api_key: player.apiKey }, player.secret) });
    expect(jsonp.type).toContain("javascript");
    expect(jsonp.text).toMatch(/^cb\(\{"token":"[0-9a-f]{32}"\}\);$/);
    for (const sig of [false as const, "0".repeat(32), sign({ method: "auth.getToken", api_key: player.apiKey }, "not the secret")]) {
      const reply = await lastfm(app.url, { method: "auth.getToken", format: "json" }, { app: player, sig });
      expect(reply.status).toBe(403);
      expect(reply.json).toEqual({ error: 13, message: "Invalid method signature supplied" });
    }
    // Upper-case hex is the same md5.
    const upper = await lastfm(app.url, { method: "auth.getToken" }, { app: player, sig: sign({ method: "auth.getToken", api_key: player.apiKey }, player.secret).toUpperCase() });
    expect(errorCode(upper)).toBeNull();
  });

  it("answers bad requests with Last.fm's codes: 10 for a missing or unknown key, 3 for an unknown method, 6 for none or a repeated parameter", async () => {
    const noKey = await lastfm(app.url, { method: "auth.getToken" }, { sig: false });
    expect([noKey.status, errorCode(noKey)]).toEqual([403, 10]);
    expect(child(noKey.xml, "error").text).toBe("Invalid API key - You must be granted a valid key by last.fm");
    const unknownKey = await lastfm(app.url, { method: "auth.getToken", api_key: "f".repeat(32), format: "json" }, { sig: false });
    expect(unknownKey.json.error).toBe(10);
    const unknownMethod = await lastfm(app.url, { method: "album.getInfo" }, { app: player });
    expect([unknownMethod.status, errorCode(unknownMethod)]).toEqual([400, 3]);
    const noMethod = await lastfm(app.url, {}, { app: player });
    expect(errorCode(noMethod)).toBe(6);
    const twice = await fetch(new URL(`/2.0/?method=auth.getToken&api_key=${player.apiKey}&api_key=${player.apiKey}&format=json`, app.url));
    expect(await twice.json()).toMatchObject({ error: 6 });
    const nul = await lastfm(app.url, { method: "auth.getMobileSession", username: "a\u0000", password: "x", format: "json" }, { app: player });
    expect(nul.json.error).toBe(6);
    // The path without its slash, as some clients write it, and an unreadable body: still Last.fm's shape.
    expect(errorCode(await lastfm(app.url, { method: "auth.getToken" }, { app: player, path: "/2.0" }))).toBeNull();
    const bad = await fetch(new URL("/2.0/?format=json", app.url), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "a=%zz" });
    expect([bad.status, (await bad.json()).error]).toEqual([400, 6]);
  });

  it("rate-limits per address with error 29 and HTTP 429", async () => {
    await app.db.pool.query("INSERT INTO rate_limit (key, window_start, hits) VALUES ('lastfm:127.0.0.1', now(), 100000) ON CONFLICT (key) DO UPDATE SET hits = 100000, window_start = now()");
    const reply = await lastfm(app.url, { method: "auth.getToken", format: "json" }, { app: player });
    expect(reply.status).toBe(429);
    expect(reply.json.error).toBe(29);
    await app.db.pool.query("DELETE FROM rate_limit WHERE key = 'lastfm:127.0.0.1'");
    expect(errorCode(await lastfm(app.url, { method: "auth.getToken" }, { app: player }))).toBeNull();
  });

  it("ends an application's sessions when its owner removes it", async () => {
    const doomed = await registerApp(bob, "Doomed");
    const key = (await lastfm(app.url, { method: "auth.getMobileSession", username: "bob", password: PASSWORD, format: "json" }, { app: doomed })).json.session.key;
    expect((await lastfm(app.url, { method: "user.getInfo", sk: key, format: "json" }, { app: doomed })).json.user.name).toBe("bob");
    expect((await bob.request("DELETE", `/api/v1/lastfm/apps/${doomed.id}`)).status).toBe(204);
    expect((await lastfm(app.url, { method: "user.getInfo", sk: key, format: "json" }, { app: doomed })).json.error).toBe(10);
    expect((await app.db.pool.query("SELECT count(*)::int AS n FROM lastfm_session WHERE application_id = $1", [doomed.id])).rows[0].n).toBe(0);
  });
});
