import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { PASSWORD, TestClient } from "../helpers/client.ts";

let app: TestApp;
let admin: TestClient;
let user: TestClient;
beforeAll(async () => {
  app = await startTestApp();
  admin = new TestClient(app.url);
  user = new TestClient(app.url);
  await admin.signup("root_admin");
  await user.signup("erin");
});
afterAll(() => app.close());

describe("API tokens", () => {
  it("are shown once, stored hashed, listed without the secret, usable as Bearer, and revocable", async () => {
    const created = await user.post("/api/v1/tokens", { name: "DSub on my phone", expiresInDays: 30 });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^pp_[\w-]{43}$/);
    expect(created.body).toMatchObject({ name: "DSub on my phone", prefix: created.body.token.slice(0, 9), lastUsedAt: null });
    const stored = await app.db.pool.query("SELECT token_hash FROM api_token");
    expect(JSON.stringify(stored.rows)).not.toContain(created.body.token);

    const bearer = new TestClient(app.url);
    bearer.bearer = created.body.token;
    const me = await bearer.get("/api/v1/me");
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ user: expect.objectContaining({ username: "erin" }) });
    // Bearer requests need no CSRF header: browsers never attach them by themselves.
    expect((await bearer.post("/api/v1/tokens", { name: "made with a token" })).status).toBe(201);

    const list = await user.get("/api/v1/tokens");
    expect(list.body.items).toHaveLength(2);
    expect(JSON.stringify(list.body)).not.toContain(created.body.token);
    expect(list.body.items.find((t: { id: string }) => t.id === created.body.id).lastUsedAt).not.toBeNull();

    expect((await user.request("DELETE", `/api/v1/tokens/${created.body.id}`)).status).toBe(204);
    const revoked = await bearer.get("/api/v1/me");
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.message).toMatch(/invalid, expired or revoked/);
  });

  it("cannot be seen or revoked by another user, and odd ids are plain 404s", async () => {
    const created = await user.post("/api/v1/tokens", { name: "private" });
    const other = await admin.request("DELETE", `/api/v1/tokens/${created.body.id}`);
    expect(other.status).toBe(404);
    expect((await admin.request("DELETE", "/api/v1/tokens/not-a-uuid")).status).toBe(404);
    expect((await admin.get("/api/v1/tokens")).body.items).toEqual([]);
  });

  it("stop working once expired", async () => {
    const created = await user.post("/api/v1/tokens", { name: "short-lived", expiresInDays: 1 });
    await app.db.pool.query("UPDATE api_token SET expires_at = now() - interval '1 minute' WHERE id = $1", [created.body.id]);
    const bearer = new TestClient(app.url);
    bearer.bearer = created.body.token;
    expect((await bearer.get("/api/v1/me")).status).toBe(401);
  });

  it("are the only Authorization scheme read: another one (a proxy's Basic) is ignored, not a 401", async () => {
    const basic = { authorization: `Basic ${Buffer.from("family:proxy-password").toString("base64")}` };
    const anonymous = await new TestClient(app.url).get("/api/v1/instance", basic);
    expect(anonymous.status).toBe(200);
    // A logged-in browser behind that proxy still sends its cookie: it counts.
    const me = await user.get("/api/v1/me", basic);
    expect([me.status, me.body.user.username]).toEqual([200, "erin"]);
    expect((await new TestClient(app.url).get("/api/v1/me", basic)).status).toBe(401);
    expect((await new TestClient(app.url).get("/api/v1/instance", { authorization: "Bearer pp_nonsense" })).status).toBe(401);
  });

  it("end with a password change unless the user keeps them; other sessions end either way", async () => {
    const bearer = async () => {
      const client = new TestClient(app.url);
      client.bearer = (await user.post("/api/v1/tokens", { name: "script" })).body.token;
      return client;
    };
    const [kept, ended] = [await bearer(), await bearer()];
    const otherSession = new TestClient(app.url);
    await otherSession.login("erin");
    const change = (from: string, to: string, extra = {}) =>
      user.post("/api/v1/me/password", { currentPassword: from, newPassword: to, ...extra });
    expect((await change(PASSWORD, "a new password here", { keepApiTokens: true })).status).toBe(204);
    expect((await kept.get("/api/v1/me")).status).toBe(200);
    expect((await otherSession.get("/api/v1/me")).status).toBe(401);
    expect((await change("a new password here", PASSWORD)).status).toBe(204);
    for (const client of [kept, ended]) expect((await client.get("/api/v1/me")).status).toBe(401);
    expect((await user.get("/api/v1/tokens")).body.items).toEqual([]);
    expect((await user.get("/api/v1/me")).status).toBe(200);
  });

  it("reject bad input", async () => {
    const res = await user.post("/api/v1/tokens", { name: "", scopes: ["all"] });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(["name", ""]));
  });
});

describe("administration", () => {
  it("lists users for admins only", async () => {
    const listed = await admin.get("/api/v1/admin/users?limit=10");
    expect(listed.status).toBe(200);
    expect(listed.body.total).toBe(2);
    expect(listed.body.items.map((u: { username: string }) => u.username)).toEqual(["root_admin", "erin"]);
    const denied = await user.get("/api/v1/admin/users");
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe("forbidden");
    expect((await new TestClient(app.url).get("/api/v1/admin/users")).status).toBe(401);
    expect((await admin.get("/api/v1/admin/users?limit=5000")).status).toBe(400);
  });

  it("disables a user: sessions end, logins and tokens are refused until re-enabled", async () => {
    const victim = new TestClient(app.url);
    const signup = await victim.signup("frank");
    const token = (await victim.post("/api/v1/tokens", { name: "t" })).body.token as string;
    const patched = await admin.request("PATCH", `/api/v1/admin/users/${signup.body.user.id}`, { json: { disabled: true } });
    expect(patched.status).toBe(200);
    expect(patched.body.disabled).toBe(true);
    expect((await victim.get("/api/v1/me")).status).toBe(401);
    expect((await new TestClient(app.url).login("frank")).status).toBe(401);
    const bearer = new TestClient(app.url);
    bearer.bearer = token;
    expect((await bearer.get("/api/v1/me")).status).toBe(401);

    await admin.request("PATCH", `/api/v1/admin/users/${signup.body.user.id}`, { json: { disabled: false } });
    expect((await bearer.get("/api/v1/me")).status).toBe(200);
    expect((await new TestClient(app.url).login("frank")).status).toBe(200);
  });

  it("refuses to let admins lock themselves out, and 404s unknown users", async () => {
    const me = (await admin.get("/api/v1/me")).body.user;
    const self = await admin.request("PATCH", `/api/v1/admin/users/${me.id}`, { json: { disabled: true } });
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe("cannot_modify_self");
    const missing = await admin.request("PATCH", "/api/v1/admin/users/00000000-0000-4000-8000-000000000000", {
      json: { disabled: true },
    });
    expect(missing.status).toBe(404);
  });
});

describe("registration modes", () => {
  it("closed: only the first account can sign up", async () => {
    const closed = await startTestApp({ env: { REGISTRATION: "closed" } });
    try {
      expect((await new TestClient(closed.url).signup("owner")).status).toBe(201);
      const refused = await new TestClient(closed.url).signup("guest");
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe("registration_closed");
    } finally {
      await closed.close();
    }
  });

  it("invite: an admin's single-use code lets one person in", async () => {
    const invite = await startTestApp({ env: { REGISTRATION: "invite" } });
    try {
      const owner = new TestClient(invite.url);
      await owner.signup("owner");
      expect((await new TestClient(invite.url).signup("guest")).body.error.code).toBe("invite_required");
      const { code } = (await owner.post("/api/v1/admin/invites")).body;
      expect((await new TestClient(invite.url).signup("guest", { inviteCode: "made-up" })).body.error.code).toBe("invite_invalid");
      expect((await new TestClient(invite.url).signup("guest", { inviteCode: code })).status).toBe(201);
      const reused = await new TestClient(invite.url).signup("second", { inviteCode: code });
      expect(reused.status).toBe(403);
      expect(reused.body.error.code).toBe("invite_invalid");
      const users = await invite.db.pool.query("SELECT username FROM app_user ORDER BY created_at");
      expect(users.rows.map((r) => r.username)).toEqual(["owner", "guest"]);
    } finally {
      await invite.close();
    }
  });
});

describe("the REST API's edges", () => {
  it("answers unknown API routes with the JSON error shape", async () => {
    const res = await user.get("/api/v1/nothing-here");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: "not_found", message: "No route for GET /nothing-here" } });
  });

  it("marks the session cookie Secure when the public URL is https", async () => {
    const https = await startTestApp({ env: { PUBLIC_URL: "https://music.example" } });
    try {
      const res = await new TestClient(https.url).signup("sam");
      expect(res.headers.getSetCookie()[0]).toContain("Secure");
    } finally {
      await https.close();
    }
  });
});
