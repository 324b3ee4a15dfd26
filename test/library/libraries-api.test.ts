import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";

let app: TestApp;
let owner: TestClient;
let other: TestClient;
let folder: string;
beforeAll(async () => {
  app = await startTestApp();
  owner = new TestClient(app.url);
  other = new TestClient(app.url);
  await owner.signup("owner"); // first account: admin
  await other.signup("other");
  folder = await mkdtemp(path.join(os.tmpdir(), "music-folder-"));
});
afterAll(async () => {
  await app.close();
  await rm(folder, { recursive: true, force: true });
});

describe("libraries", () => {
  it("are created with defaults and their own ActivityPub actor", async () => {
    const res = await owner.post("/api/v1/libraries", { name: "Vinyl rips" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: "Vinyl rips",
      description: "",
      privacy: "private",
      approveFollows: true,
      isOwner: true,
      musicFolder: null,
    });
    expect(res.body.actorId).toMatch(new RegExp(`^${TEST_ORIGIN}/actors/lib\\.[0-9a-f]{32}$`));
    const actorPath = new URL(res.body.actorId).pathname;
    const actor = await owner.get(actorPath, { accept: "application/activity+json" });
    expect(actor.status).toBe(200);
    expect(actor.body).toMatchObject({ type: "Application", name: "Vinyl rips", id: res.body.actorId });
    expect(actor.body.publicKey.publicKeyPem).toContain("BEGIN PUBLIC KEY");
  });

  it("are renamed, described, re-shared and deleted by their owner only", async () => {
    const { body: lib } = await owner.post("/api/v1/libraries", { name: "Draft", privacy: "instance" });
    const patched = await owner.request("PATCH", `/api/v1/libraries/${lib.id}`, {
      json: { name: "Final", description: "Live recordings", privacy: "public", approveFollows: false },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: "Final", description: "Live recordings", privacy: "public", approveFollows: false });
    expect((await other.request("PATCH", `/api/v1/libraries/${lib.id}`, { json: { name: "Mine now" } })).status).toBe(404);
    expect((await other.request("DELETE", `/api/v1/libraries/${lib.id}`)).status).toBe(404);
    expect((await owner.request("DELETE", `/api/v1/libraries/${lib.id}`)).status).toBe(204);
    expect((await owner.get(`/api/v1/libraries/${lib.id}`)).status).toBe(404);
    // Its actor stays as a tombstone with its keys (test/federation/library-actors.test.ts).
    const actors = await app.db.pool.query("SELECT deleted_at IS NOT NULL AS gone FROM actor WHERE username = $1", [
      `lib.${lib.id.replaceAll("-", "")}`,
    ]);
    expect(actors.rows).toEqual([{ gone: true }]);
  });

  it("hide private libraries from everyone but the owner, without revealing they exist", async () => {
    const { body: priv } = await owner.post("/api/v1/libraries", { name: "Secret" });
    const { body: inst } = await owner.post("/api/v1/libraries", { name: "For members", privacy: "instance" });
    const { body: pub } = await owner.post("/api/v1/libraries", { name: "For all", privacy: "public" });
    const missing = await other.get(`/api/v1/libraries/00000000-0000-4000-8000-000000000000`);
    const hidden = await other.get(`/api/v1/libraries/${priv.id}`);
    expect(hidden.status).toBe(404);
    expect(hidden.body).toEqual(missing.body);
    expect((await other.get(`/api/v1/libraries/${inst.id}`)).body).toMatchObject({ name: "For members", isOwner: false });
    expect((await other.get(`/api/v1/libraries/${inst.id}`)).body).not.toHaveProperty("musicFolder");
    const anonymous = new TestClient(app.url);
    expect((await anonymous.get(`/api/v1/libraries/${inst.id}`)).status).toBe(404);
    expect((await anonymous.get(`/api/v1/libraries/${pub.id}`)).status).toBe(200);
    const visible = await other.get("/api/v1/libraries?scope=visible");
    const names = visible.body.items.map((l: { name: string }) => l.name);
    expect(names).toEqual(expect.arrayContaining(["For members", "For all"]));
    expect(names).not.toContain("Secret");
    expect((await other.get("/api/v1/libraries")).body.items).toEqual([]);
    expect((await other.get("/api/v1/libraries/not-a-uuid")).status).toBe(404);
  });

  it("let only administrators attach an existing absolute server folder", async () => {
    const denied = await other.post("/api/v1/libraries", { name: "Sneaky", musicFolder: "/etc" });
    expect(denied.status).toBe(403);
    const relative = await owner.post("/api/v1/libraries", { name: "Rel", musicFolder: "music" });
    expect(relative.status).toBe(400);
    expect(relative.body.error.message).toMatch(/absolute path/);
    const absent = await owner.post("/api/v1/libraries", { name: "Gone", musicFolder: "/no/such/folder" });
    expect(absent.status).toBe(400);
    const ok = await owner.post("/api/v1/libraries", { name: "NAS", musicFolder: folder });
    expect(ok.status).toBe(201);
    expect(ok.body.musicFolder).toBe(folder);
    const jobs = await app.db.pool.query("SELECT task_identifier, key FROM graphile_worker.jobs WHERE task_identifier = 'scan_library'");
    expect(jobs.rows).toEqual([{ task_identifier: "scan_library", key: `scan:${ok.body.id}` }]);
  });

  it("refuse the server's own folders as a music folder: the data directory, MEDIA_DIR, inside or around them, or a link to one", async () => {
    const { dataDir, mediaDir } = app.config;
    await mkdir(path.join(mediaDir, "uploads"), { recursive: true });
    await symlink(dataDir, path.join(folder, "data-link"));
    const refused = [dataDir, mediaDir, path.join(mediaDir, "uploads"), path.dirname(dataDir), "/", path.join(folder, "data-link")];
    for (const musicFolder of refused) {
      const created = await owner.post("/api/v1/libraries", { name: "Own data", musicFolder });
      expect([musicFolder, created.status, created.body.error?.code]).toEqual([musicFolder, 400, "server_folder"]);
    }
    const library = (await owner.post("/api/v1/libraries", { name: "Later" })).body.id;
    for (const musicFolder of refused) {
      const patched = await owner.request("PATCH", `/api/v1/libraries/${library}`, { json: { musicFolder } });
      expect([musicFolder, patched.status, patched.body.error?.code]).toEqual([musicFolder, 400, "server_folder"]);
    }
    expect((await owner.get(`/api/v1/libraries/${library}`)).body.musicFolder).toBe(null);
    const { rows } = await app.db.pool.query("SELECT count(*)::int AS n FROM library WHERE music_folder IS NOT NULL AND music_folder <> $1", [folder]);
    expect(rows[0].n).toBe(0);
  });

  it("validate their input", async () => {
    const res = await owner.post("/api/v1/libraries", { name: "", privacy: "friends", color: "blue" });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(["name", "privacy", ""]));
  });
});
