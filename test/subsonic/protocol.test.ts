import { stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { apiClient, rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";

// Envelope, formats, credentials and every auth mode; no audio needed.
describe("Subsonic protocol and authentication", () => {
  let app: TestApp;
  let alice: TestClient;
  let creds: Credentials;
  const base = { v: "1.16.1", c: "test" };

  beforeAll(async () => {
    app = await startTestApp({ env: { LOGIN_MAX_ATTEMPTS: "3" } });
    alice = new TestClient(app.url);
    creds = await subsonicCredentials(alice, "alice");
  });
  afterAll(async () => {
    await app?.close();
  });

  const password = () => ({ ...base, u: creds.username, p: creds.password });

  it("makes credentials once, stores them encrypted, and regenerates them", async () => {
    expect(creds).toEqual({ username: "alice", password: expect.any(String), apiKey: expect.stringMatching(/^pps_/) });
    expect((await alice.get("/api/v1/me/subsonic")).body).toEqual(creds);
    const { rows } = await app.db.pool.query("SELECT * FROM subsonic_credential");
    expect(JSON.stringify(rows)).not.toContain(creds.password);
    expect(JSON.stringify(rows)).not.toContain(creds.apiKey);
    expect((await stat(path.join(app.config.dataDir, "secret.key"))).mode & 0o777).toBe(0o600);
    expect((await new TestClient(app.url).get("/api/v1/me/subsonic")).status).toBe(401);

    const bob = new TestClient(app.url);
    const old = await subsonicCredentials(bob, "bob");
    const fresh = (await bob.post("/api/v1/me/subsonic/regenerate")).body;
    expect(fresh.password).not.toBe(old.password);
    expect((await rest(app.url, "ping", { ...base, apiKey: old.apiKey, f: "json" })).json.error.code).toBe(44);
    expect((await rest(app.url, "ping", { ...base, apiKey: fresh.apiKey, f: "json" })).json.status).toBe("ok");
  });

  it("answers XML by default with the full envelope, and JSON and JSONP on request", async () => {
    const xml = await rest(app.url, "ping.view", password());
    expect(xml.status).toBe(200);
    expect(xml.type).toContain("application/xml");
    expect(xml.text).toMatch(
      /<subsonic-response xmlns="http:\/\/subsonic.org\/restapi" status="ok" version="1.16.1" type="polyphony" serverVersion="[^"]+" openSubsonic="true"\/>/,
    );
    const json = await rest(app.url, "ping", { ...password(), f: "json" });
    expect(json.json).toEqual({ status: "ok", version: "1.16.1", type: "polyphony", serverVersion: expect.any(String), openSubsonic: true });
    const jsonp = await rest(app.url, "ping", { ...password(), f: "jsonp", callback: "cb.done_1" });
    expect(jsonp.type).toContain("application/javascript");
    expect(jsonp.text).toMatch(/^cb\.done_1\(\{"subsonic-response":\{"status":"ok".*\}\}\);$/);
    const evil = await rest(app.url, "ping", { ...password(), f: "jsonp", callback: "alert(1)//" });
    expect(evil.json.error.code).toBe(0);
    expect(evil.text).not.toContain("alert");
  });

  it("lists its extensions without credentials, arrays in JSON and repeated elements in XML", async () => {
    const json = await rest(app.url, "getOpenSubsonicExtensions", { f: "json" });
    expect(json.json.openSubsonicExtensions).toEqual([
      { name: "apiKeyAuthentication", versions: [1] },
      { name: "formPost", versions: [1] },
      { name: "songLyrics", versions: [1] },
      { name: "transcodeOffset", versions: [1] },
    ]);
    const xml = await rest(app.url, "getOpenSubsonicExtensions.view", {});
    expect(xml.text).toContain('<openSubsonicExtensions name="apiKeyAuthentication"><versions>1</versions></openSubsonicExtensions>');
    expect((await apiClient(app.url, { apiKey: creds.apiKey }).getOpenSubsonicExtensions()).openSubsonicExtensions).toHaveLength(4);
  });

  it("accepts a plain password, an enc: hex password, a token with salt and an API key", async () => {
    const ok = async (params: Record<string, string>) => (await rest(app.url, "ping", { ...params, f: "json" })).json.status;
    expect(await ok(password())).toBe("ok");
    expect(await ok({ ...base, u: "ALICE", p: `enc:${Buffer.from(creds.password).toString("hex")}` })).toBe("ok");
    expect(await ok(tokenParams(creds))).toBe("ok");
    expect(await ok({ ...base, apiKey: creds.apiKey })).toBe("ok");
    expect((await apiClient(app.url, { username: "alice", password: creds.password }).ping()).status).toBe("ok");
    const byKey = await apiClient(app.url, { apiKey: creds.apiKey }).customJSON<any>("tokenInfo", {});
    expect(byKey.tokenInfo).toEqual({ username: "alice" });
    expect((await apiClient(app.url, { apiKey: creds.apiKey }).getLicense()).license.valid).toBe(true);
  });

  it("answers each auth failure with its code, as HTTP 200", async () => {
    const code = async (params: Record<string, string>) => {
      const response = await rest(app.url, "ping", { ...params, f: "json" });
      expect(response.status).toBe(200);
      return response.json.error?.code;
    };
    expect(await code({ u: "alice", p: creds.password, c: "test" })).toBe(10); // no v
    expect(await code({ u: "alice", p: creds.password, v: "1.2.0" })).toBe(10); // no c
    expect(await code({ ...base, p: creds.password })).toBe(10); // no u
    expect(await code({ ...base, u: "alice" })).toBe(10); // no secret
    expect(await code({ ...base, u: "alice", t: "abc" })).toBe(10); // token without salt
    expect(await code({ ...base, u: "nobody", p: "x" })).toBe(40);
    expect(await code({ ...base, apiKey: creds.apiKey, u: "alice" })).toBe(43);
    expect(await code({ ...password(), t: "abc", s: "salt12" })).toBe(43);
    expect(await code({ ...base, apiKey: "pps_nope" })).toBe(44);
    expect(await code({ ...base, u: "alice", p: "wrong" })).toBe(40);
    const xml = await rest(app.url, "ping", { ...base, apiKey: "pps_nope" });
    expect(xml.text).toMatch(/status="failed"[^>]*><error code="44" message="Invalid API key"\/><\/subsonic-response>$/);
  });

  it("refuses disabled users in every mode and a user who never made credentials", async () => {
    const carol = new TestClient(app.url);
    const carolCreds = await subsonicCredentials(carol, "carol");
    const dave = new TestClient(app.url);
    await dave.signup("dave");
    await app.db.pool.query("UPDATE app_user SET disabled_at = now() WHERE username = 'carol'");
    const code = async (params: Record<string, string>) => (await rest(app.url, "ping", { ...params, f: "json" })).json.error?.code;
    expect(await code({ ...base, u: "carol", p: carolCreds.password })).toBe(40);
    expect(await code({ ...base, apiKey: carolCreds.apiKey })).toBe(40);
    expect(await code({ ...base, u: "dave", p: "correct horse battery" })).toBe(40);
  });

  it("rate-limits failed attempts per username, even when the right password follows", async () => {
    const erin = new TestClient(app.url);
    const erinCreds = await subsonicCredentials(erin, "erin");
    for (let i = 0; i < 3; i++) await rest(app.url, "ping", { ...base, u: "erin", p: "guess", f: "json" });
    const locked = await rest(app.url, "ping", { ...base, u: "erin", p: erinCreds.password, f: "json" });
    expect(locked.json.error).toEqual({ code: 40, message: expect.stringMatching(/Too many attempts/) });
  });

  it("counts parallel wrong guesses: exactly the allowed number are answered as wrong, the rest locked out", async () => {
    await app.db.pool.query("DELETE FROM rate_limit");
    await subsonicCredentials(new TestClient(app.url), "frank");
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => rest(app.url, "ping", { ...base, u: "frank", p: `guess ${i}`, f: "json" })),
    );
    const messages = answers.map((a) => (a.json.error.message as string).replace(/\d+ seconds/, "N seconds"));
    expect(messages.filter((m) => m === "Wrong username or password")).toHaveLength(3);
    expect(messages.filter((m) => m === "Too many attempts; try again in N seconds")).toHaveLength(17);
    await app.db.pool.query("DELETE FROM rate_limit");
  });

  it("takes the same parameters as a form POST (formPost), merged with the query", async () => {
    const response = await rest(app.url, "ping.view", { ...password(), f: "json" }, { post: true });
    expect(response.json.status).toBe("ok");
    expect((await apiClient(app.url, { username: "alice", password: creds.password }, true).ping()).status).toBe("ok");
    const big = await rest(app.url, "ping", { ...password(), f: "json", id: "x".repeat(1_100_000) }, { post: true });
    // The body was refused unread, so its `f` is unknown: the error comes in the default XML.
    expect(big.status).toBe(200);
    expect(big.text).toMatch(/status="failed".*<error code="0"/s);
    for (const method of ["noSuchMethod", "constructor", "toString", "hasOwnProperty"]) {
      expect((await rest(app.url, method, { ...password(), f: "json" })).json.error).toEqual({ code: 0, message: `Unknown method '${method}'` });
    }
  });

  it("lists only the libraries the user may see as music folders with integer ids", async () => {
    const bob = new TestClient(app.url);
    await bob.login("bob");
    await alice.post("/api/v1/libraries", { name: "Alice private" });
    await alice.post("/api/v1/libraries", { name: "Alice shared", privacy: "instance" });
    await bob.post("/api/v1/libraries", { name: "Bob private" });
    const folders = (await apiClient(app.url, { username: "alice", password: creds.password }).getMusicFolders()).musicFolders.musicFolder;
    expect(folders?.map((f) => f.name)).toEqual(["Alice private", "Alice shared"]);
    expect(folders?.every((f) => Number.isInteger(f.id) && (f.id as number) > 0)).toBe(true);
    const bobCreds = (await bob.get("/api/v1/me/subsonic")).body as Credentials;
    const bobJson = await rest(app.url, "getMusicFolders", { ...tokenParams(bobCreds), f: "json" });
    expect(bobJson.json.musicFolders.musicFolder.map((f: { name: string }) => f.name)).toEqual(["Alice shared", "Bob private"]);
    const xml = await rest(app.url, "getMusicFolders", { ...tokenParams(bobCreds) });
    expect(xml.text).toMatch(/<musicFolders><musicFolder id="\d+" name="Alice shared"\/><musicFolder id="\d+" name="Bob private"\/><\/musicFolders>/);
  });
});
