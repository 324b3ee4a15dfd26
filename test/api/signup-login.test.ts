import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { PASSWORD, TestClient } from "../helpers/client.ts";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ env: { LOGIN_MAX_ATTEMPTS: "5", LOGIN_WINDOW_SECONDS: "600" } });
});
afterAll(() => app.close());

const count = async (table: string) =>
  (await app.db.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;

describe("sign-up", () => {
  it("makes the first account admin, later ones users, each with a Person actor and key pairs", async () => {
    const first = await new TestClient(app.url).signup("Alice", { email: "Alice@Example.org" });
    expect(first.status).toBe(201);
    expect(first.body.user).toMatchObject({ username: "alice", email: "alice@example.org", role: "admin", disabled: false });
    expect(first.body.csrfToken).toMatch(/^[\w-]{40,}$/);

    const second = await new TestClient(app.url).signup("bob");
    expect(second.status).toBe(201);
    expect(second.body.user.role).toBe("user");

    const { rows } = await app.db.pool.query(
      `SELECT u.password_hash, a.fid, a.type, a.rsa_private_jwk, a.ed25519_public_jwk
       FROM app_user u JOIN actor a ON a.id = u.actor_id WHERE u.username = 'alice'`,
    );
    expect(rows[0].password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(rows[0].password_hash).not.toContain(PASSWORD);
    expect(rows[0].fid).toBe("http://polyphony.test/actors/alice");
    expect(rows[0].type).toBe("Person");
    expect(rows[0].rsa_private_jwk.kty).toBe("RSA");
    expect(rows[0].ed25519_public_jwk).toMatchObject({ kty: "OKP", crv: "Ed25519" });
  });

  it("rejects duplicate usernames and emails with 409 and leaves nothing half-created", async () => {
    const before = { users: await count("app_user"), actors: await count("actor") };
    const dupName = await new TestClient(app.url).signup("ALICE");
    expect(dupName.status).toBe(409);
    expect(dupName.body.error.code).toBe("username_taken");
    const dupEmail = await new TestClient(app.url).signup("carol", { email: "alice@example.org" });
    expect(dupEmail.status).toBe(409);
    expect(dupEmail.body.error.code).toBe("email_taken");
    expect({ users: await count("app_user"), actors: await count("actor") }).toEqual(before);
  });

  it("settles concurrent sign-ups for one name with exactly one account", async () => {
    const results = await Promise.all([1, 2, 3].map(() => new TestClient(app.url).signup("racer")));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect((await app.db.pool.query("SELECT count(*)::int n FROM actor WHERE username = 'racer'")).rows[0].n).toBe(1);
  });

  it("validates input: bad names, short passwords, unknown fields", async () => {
    const client = new TestClient(app.url);
    const bad = await client.post("/api/v1/auth/signup", { username: "no spaces!", password: "short", isAdmin: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid");
    const paths = bad.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(["username", "password", ""]));
    expect(JSON.stringify(bad.body.error.details)).toContain("isAdmin");
    const reserved = await client.signup("instance");
    expect(reserved.status).toBe(400);
  });

  it("answers malformed JSON with 400 and oversized bodies with 413, in the error shape", async () => {
    const client = new TestClient(app.url);
    const malformed = await client.request("POST", "/api/v1/auth/login", {
      body: '{"username": "alice",',
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ error: { code: "malformed_json", message: "The request body is not valid JSON" } });
    const huge = await client.post("/api/v1/auth/signup", { username: "big", password: "x".repeat(300 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe("payload_too_large");
  });
});

describe("login", () => {
  it("sets an HttpOnly, SameSite=Lax session cookie (not Secure over http) and /me works with it", async () => {
    const client = new TestClient(app.url);
    const res = await client.login("alice");
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/^polyphony_session=[\w-]{40,};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).not.toContain("Secure");
    const me = await client.get("/api/v1/me");
    expect(me.status).toBe(200);
    expect(me.body.user.username).toBe("alice");
    expect(me.body.csrfToken).toBe(res.body.csrfToken);
    const stored = await app.db.pool.query("SELECT token_hash FROM user_session");
    const raw = client.cookie!.split("=")[1]!;
    expect(stored.rows.map((r) => r.token_hash)).not.toContain(raw);
  });

  it("gives the same 401 for a wrong password and an unknown user", async () => {
    const wrong = await new TestClient(app.url).login("bob", "not the password");
    const unknown = await new TestClient(app.url).login("nobody", "not the password");
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error.code).toBe("unauthenticated");
  });

  it("rate-limits login attempts per username with 429 and Retry-After", async () => {
    await app.db.pool.query("DELETE FROM rate_limit");
    const client = new TestClient(app.url);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await client.login("bob", `guess ${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const limited = await client.login("bob");
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(500);
    await app.db.pool.query("DELETE FROM rate_limit");
  });

  it("counts parallel login attempts before checking them: only the allowed number are checked", async () => {
    await app.db.pool.query("DELETE FROM rate_limit");
    const guesses = await Promise.all(Array.from({ length: 12 }, (_, i) => new TestClient(app.url).login("bob", `guess ${i}`)));
    const statuses = guesses.map((g) => g.status).sort();
    expect(statuses).toEqual([...Array(5).fill(401), ...Array(7).fill(429)]);
    // A success gives its count back: the right password does not use up the address's budget.
    await app.db.pool.query("DELETE FROM rate_limit");
    for (let i = 0; i < 2; i++) expect((await new TestClient(app.url).login("alice")).status).toBe(200);
    const counted = await app.db.pool.query("SELECT key, hits FROM rate_limit WHERE hits > 0");
    expect(counted.rows).toEqual([]);
    await app.db.pool.query("DELETE FROM rate_limit");
  });

  it("requires the CSRF header for cookie-authenticated writes, and logout ends the session", async () => {
    const client = new TestClient(app.url);
    await client.login("alice");
    const forged = await client.request("POST", "/api/v1/auth/logout", { headers: { "x-csrf-token": "wrong" } });
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe("csrf_failed");
    const cookie = client.cookie;
    const out = await client.post("/api/v1/auth/logout");
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie()[0]).toMatch(/^polyphony_session=;/);
    const stale = new TestClient(app.url);
    stale.cookie = cookie;
    expect((await stale.get("/api/v1/me")).status).toBe(401);
  });

  it("treats an expired session as logged out", async () => {
    const client = new TestClient(app.url);
    await client.login("bob");
    await app.db.pool.query("UPDATE user_session SET expires_at = now() - interval '1 second'");
    const me = await client.get("/api/v1/me");
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe("unauthenticated");
  });
});

describe("password change", () => {
  it("needs the current password, then ends the user's other sessions", async () => {
    const here = new TestClient(app.url);
    const elsewhere = new TestClient(app.url);
    await here.signup("dave");
    await elsewhere.login("dave");
    const wrong = await here.post("/api/v1/me/password", { currentPassword: "nope", newPassword: "another long secret" });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe("wrong_password");
    const ok = await here.post("/api/v1/me/password", { currentPassword: PASSWORD, newPassword: "another long secret" });
    expect(ok.status).toBe(204);
    expect((await here.get("/api/v1/me")).status).toBe(200);
    expect((await elsewhere.get("/api/v1/me")).status).toBe(401);
    expect((await new TestClient(app.url).login("dave")).status).toBe(401);
    expect((await new TestClient(app.url).login("dave", "another long secret")).status).toBe(200);
  });

  it("counts wrong current passwords against the login limit", async () => {
    await app.db.pool.query("DELETE FROM rate_limit");
    const here = new TestClient(app.url);
    await here.login("alice");
    const change = () => here.post("/api/v1/me/password", { currentPassword: "a guess", newPassword: "another long secret" });
    const statuses = (await Promise.all(Array.from({ length: 7 }, change))).map((r) => r.status).sort();
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429, 429]);
    await app.db.pool.query("DELETE FROM rate_limit");
  });
});

describe("GET /api/v1/auth/session", () => {
  it("answers a visitor 200 with no user (the web UI's first request logs no error), a session with its user and CSRF token", async () => {
    const client = new TestClient(app.url);
    const anonymous = await client.get("/api/v1/auth/session");
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({ user: null });

    const login = await client.login("alice");
    const signedIn = await client.get("/api/v1/auth/session");
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toEqual({ user: login.body.user, csrfToken: login.body.csrfToken });

    expect((await client.post("/api/v1/auth/logout")).status).toBe(204);
    expect((await client.get("/api/v1/auth/session")).body).toEqual({ user: null });
  });
});
