import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { apiClient, rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";

describe("Subsonic play queue", () => {
  let app: TestApp;
  let alice: Credentials;
  let bob: Credentials;
  let aliceClient: TestClient;
  let fleetingLib: string;
  const id: Record<string, string> = {};
  const call = (who: Credentials, method: string, params: Record<string, string | string[]> = {}) =>
    rest(app.url, method, { ...tokenParams(who), f: "json", ...params });

  beforeAll(async () => {
    app = await startTestApp();
    aliceClient = new TestClient(app.url);
    alice = await subsonicCredentials(aliceClient, "alice");
    bob = await subsonicCredentials(new TestClient(app.url), "bob");
    const song = (name: string, title: string, album: string) => ({ name, tags: { TITLE: title, ALBUM: album, ARTIST: "Air" } });
    const shared = (await aliceClient.post("/api/v1/libraries", { name: "Shared", privacy: "public" })).body.id;
    fleetingLib = (await aliceClient.post("/api/v1/libraries", { name: "For now", privacy: "public" })).body.id;
    const mine = (await aliceClient.post("/api/v1/libraries", { name: "Mine" })).body.id;
    await seedTracks(app, shared, [song("a", "Alpha", "One"), song("b", "Beta", "One")]);
    await seedTracks(app, fleetingLib, [song("f", "Fleeting", "Two")]);
    await seedTracks(app, mine, [song("s", "Secret", "Three")]);
    for (const r of (await app.db.pool.query("SELECT id, title FROM track")).rows) id[r.title] = r.id;
  });
  afterAll(async () => {
    await app?.close();
  });

  it("saves a queue with repeats, current track and position, and gives it back to any player", async () => {
    const api = apiClient(app.url, { apiKey: alice.apiKey });
    const saved = await api.savePlayQueue({ id: [id.Alpha!, id.Beta!, id.Alpha!], current: id.Beta!, position: 12_345 });
    expect(saved.status).toBe("ok");
    const queue = (await api.getPlayQueue()).playQueue!;
    expect(queue).toMatchObject({ current: id.Beta, position: 12_345, username: "alice", changedBy: "subsonic-api" });
    expect(queue.entry?.map((e) => e.title)).toEqual(["Alpha", "Beta", "Alpha"]);
    expect(String(queue.changed)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    // Another player (formPost, one id) replaces it; JSON keeps `entry` an array, XML has one element.
    const post = await rest(app.url, "savePlayQueue", { ...tokenParams(alice), c: "Symfonium", f: "json", id: id.Secret!, position: "0" }, { post: true });
    expect(post.json.status).toBe("ok");
    const json = (await call(alice, "getPlayQueue")).json.playQueue;
    expect(json).toMatchObject({ current: id.Secret, position: 0, username: "alice", changedBy: "Symfonium" });
    expect(json.entry).toHaveLength(1);
    expect(json.entry[0]).toMatchObject({ id: id.Secret, title: "Secret", isDir: false });
    const xml = (await rest(app.url, "getPlayQueue", tokenParams(alice))).text;
    expect(xml).toMatch(new RegExp(`<playQueue current="${id.Secret}" position="0" username="alice" changed="[^"]+Z" changedBy="Symfonium"><entry id="${id.Secret}"`));
    expect(xml.match(/<entry /g)).toHaveLength(1);
  });

  it("clears the queue when saved without ids", async () => {
    expect((await call(alice, "savePlayQueue")).json.status).toBe("ok");
    const cleared = await apiClient(app.url, { username: "alice", password: alice.password }).getPlayQueue();
    expect(cleared.status).toBe("ok");
    expect(cleared.playQueue).toBeUndefined();
    expect((await rest(app.url, "getPlayQueue", tokenParams(alice))).text).toMatch(/<subsonic-response [^>]*status="ok"[^>]*\/>$/);
    expect((await app.db.pool.query("SELECT 1 FROM play_queue")).rowCount).toBe(0);
  });

  it("keeps each person's queue apart and drops songs they can no longer see", async () => {
    await call(bob, "savePlayQueue", { id: [id.Fleeting!, id.Alpha!], current: id.Fleeting!, position: "5000" });
    await call(alice, "savePlayQueue", { id: [id.Beta!] });
    expect((await call(alice, "getPlayQueue")).json.playQueue).toMatchObject({ current: id.Beta, position: 0 });
    expect((await call(bob, "getPlayQueue")).json.playQueue.entry.map((e: { title: string }) => e.title)).toEqual(["Fleeting", "Alpha"]);

    expect((await aliceClient.request("PATCH", `/api/v1/libraries/${fleetingLib}`, { json: { privacy: "private" } })).status).toBe(200);
    const after = (await call(bob, "getPlayQueue")).json.playQueue;
    expect(after.entry.map((e: { title: string }) => e.title)).toEqual(["Alpha"]);
    // The current song is gone for bob: no current, the position stays.
    expect(after.current).toBeUndefined();
    expect(after.position).toBe(5000);
  });

  it("answers malformed, unknown and invisible ids and a foreign current with the right codes", async () => {
    expect((await call(bob, "savePlayQueue", { id: "nope" })).json.error.code).toBe(70);
    expect((await call(bob, "savePlayQueue", { id: "00000000-0000-4000-8000-000000000000" })).json.error.code).toBe(70);
    expect((await call(bob, "savePlayQueue", { id: [id.Alpha!, id.Secret!] })).json.error.code).toBe(70);
    expect((await call(bob, "savePlayQueue", { id: id.Alpha!, current: id.Beta! })).json.error.code).toBe(0);
    expect((await call(bob, "savePlayQueue", { id: id.Alpha!, position: "soon" })).json.error.code).toBe(0);
    const xml = await rest(app.url, "savePlayQueue", { ...tokenParams(bob), id: id.Secret! });
    expect(xml.text).toContain('<error code="70"');
    // The failed saves left bob's queue as it was.
    expect((await call(bob, "getPlayQueue")).json.playQueue.entry.map((e: { title: string }) => e.title)).toEqual(["Alpha"]);
  });
});
