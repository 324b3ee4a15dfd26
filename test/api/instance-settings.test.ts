import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../core/db/database.ts";
import { startWebServer, type WebServer } from "../../server/main.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";

let app: TestApp;
let admin: TestClient;
let user: TestClient;
// A second web process on the same database, as docker-compose runs several.
let otherDb: Database;
let other: WebServer;
beforeAll(async () => {
  app = await startTestApp({ env: { REGISTRATION: "invite" } });
  otherDb = await openDatabase(app.config.database.url!, 4);
  other = await startWebServer(app.config, otherDb);
  admin = new TestClient(app.url);
  user = new TestClient(app.url);
  await admin.signup("root_admin");
  const { code } = (await admin.post("/api/v1/admin/invites")).body;
  await user.signup("uma", { inviteCode: code });
});
afterAll(async () => {
  await other?.close();
  await otherDb?.close();
  await app?.close();
});

describe("GET /api/v1/instance", () => {
  it("tells anyone the server's name, version and registration mode", async () => {
    const res = await new TestClient(app.url).get("/api/v1/instance");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: "polyphony.test", version: "0.1.0", registration: "invite" });
  });
});

describe("instance settings", () => {
  it("start from the REGISTRATION environment value", async () => {
    const res = await admin.get("/api/v1/admin/settings");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ registration: "invite" });
    expect((await app.db.pool.query("SELECT count(*)::int AS n FROM instance_setting")).rows[0].n).toBe(0);
  });

  it("are for administrators only", async () => {
    expect((await new TestClient(app.url).get("/api/v1/admin/settings")).status).toBe(401);
    const read = await user.get("/api/v1/admin/settings");
    expect(read.status).toBe(403);
    expect(read.body.error.code).toBe("forbidden");
    const write = await user.request("PATCH", "/api/v1/admin/settings", { json: { registration: "open" } });
    expect(write.status).toBe(403);
    expect((await admin.get("/api/v1/admin/settings")).body.registration).toBe("invite");
  });

  it("reject unknown modes and fields", async () => {
    const bad = await admin.request("PATCH", "/api/v1/admin/settings", { json: { registration: "maybe" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(["registration"]);
    expect((await admin.request("PATCH", "/api/v1/admin/settings", { json: { name: "x" } })).status).toBe(400);
  });

  it("switch the registration mode for the next sign-up, in every web process", async () => {
    expect((await new TestClient(other.url).signup("before_open")).body.error.code).toBe("invite_required");

    const opened = await admin.request("PATCH", "/api/v1/admin/settings", { json: { registration: "open" } });
    expect(opened.status).toBe(200);
    expect(opened.body).toEqual({ registration: "open" });
    expect((await new TestClient(other.url).signup("walk_in")).status).toBe(201);
    expect((await new TestClient(other.url).get("/api/v1/instance")).body.registration).toBe("open");
    expect((await new TestClient(other.url).get("/nodeinfo/2.1")).body.openRegistrations).toBe(true);

    await admin.request("PATCH", "/api/v1/admin/settings", { json: { registration: "closed" } });
    const refused = await new TestClient(other.url).signup("too_late");
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("registration_closed");
    expect((await admin.get("/api/v1/admin/settings")).body).toEqual({ registration: "closed" });
    expect((await new TestClient(other.url).get("/nodeinfo/2.1")).body.openRegistrations).toBe(false);

    const users = await app.db.pool.query("SELECT username FROM app_user ORDER BY created_at");
    expect(users.rows.map((r) => r.username)).toEqual(["root_admin", "uma", "walk_in"]);
    const stored = await app.db.pool.query("SELECT key, value FROM instance_setting");
    expect(stored.rows).toEqual([{ key: "registration", value: "closed" }]);
  });
});
