import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { FUNKWHALE_CONTEXT } from "../helpers/fake-funkwhale-pod.ts";
import { seedTrack } from "../helpers/factories.ts";
import { type RemoteActorServer, startRemoteActorServer } from "../helpers/remote-actor-server.ts";
import { waitUntil } from "../helpers/wait.ts";

// People blocking remote actors, and reports (Flag) from other servers reaching the admins' queue
// (issue 17 point 5). Remote servers sign for real; activities go through the inboxes, queue and worker.

let app: TestApp;
let admin: TestClient;
let alice: TestClient;
let carol: TestClient;
let remote: RemoteActorServer;
let aliceLibrary: { id: string; actorId: string };
let carolLibrary: { id: string; actorId: string };

const collectionOf = (library: { id: string }) => `${TEST_ORIGIN}/federation/libraries/${library.id}`;
const follow = (name: string, library: { id: string }) => ({
  "@context": "https://www.w3.org/ns/activitystreams",
  id: `${remote.actorId(name)}#follows/${randomUUID()}`,
  type: "Follow",
  actor: remote.actorId(name),
  object: collectionOf(library),
});
const followState = async (name: string, library: { id: string }) =>
  (await app.db.pool.query("SELECT f.state FROM follow f JOIN actor a ON a.id = f.follower_id WHERE a.fid = $1 AND f.library_id = $2", [remote.actorId(name), library.id]))
    .rows[0]?.state as string | undefined;
const jobsLeft = async () => (await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'fedify'")).rows[0].n as number;
const settled = () => waitUntil(async () => (await jobsLeft()) === 0, { what: "the inbox queue to drain" });
const openReports = async () => (await admin.get("/api/v1/admin/reports")).body.items as Record<string, any>[];

beforeAll(async () => {
  remote = await startRemoteActorServer();
  app = await startTestApp({ worker: true, env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
  [admin, alice, carol] = [new TestClient(app.url), new TestClient(app.url), new TestClient(app.url)];
  for (const [client, name] of [[admin, "operator"], [alice, "alice"], [carol, "carol"]] as const) expect((await client.signup(name)).status).toBe(201);
  aliceLibrary = (await alice.post("/api/v1/libraries", { name: "Alice's shelf", privacy: "public" })).body;
  carolLibrary = (await carol.post("/api/v1/libraries", { name: "Carol's shelf", privacy: "public" })).body;
});
afterAll(async () => {
  await app?.close();
  await remote?.close();
});

describe("a person blocking a remote actor", () => {
  it("drops its follow of their libraries, and no one else's", async () => {
    for (const library of [aliceLibrary, carolLibrary]) {
      expect((await remote.post(`${app.url}/inbox`, follow("mallory", library), remote.key("mallory"))).status).toBe(202);
      await waitUntil(async () => (await followState("mallory", library)) === "accepted", { what: "mallory's follow" });
    }
    const res = await alice.post("/api/v1/me/blocks", { actor: remote.actorId("mallory") });
    expect(res.status).toBe(201);
    expect(res.body.actor).toMatchObject({ fid: remote.actorId("mallory"), username: "mallory", handle: `@mallory@${new URL(remote.origin).host}` });
    expect(await followState("mallory", aliceLibrary)).toBeUndefined();
    expect(await followState("mallory", carolLibrary)).toBe("accepted");
    expect((await alice.get("/api/v1/me/blocks")).body.items.map((b: any) => b.actor.fid)).toEqual([remote.actorId("mallory")]);
    expect((await carol.get("/api/v1/me/blocks")).body.items).toEqual([]);
  });

  it("ignores what it sends them: a new Follow of their library, through the shared inbox or theirs", async () => {
    expect((await remote.post(`${app.url}/inbox`, follow("mallory", aliceLibrary), remote.key("mallory"))).status).toBe(202);
    const personalInbox = `${aliceLibrary.actorId.replace(TEST_ORIGIN, app.url)}/inbox`;
    expect((await remote.post(personalInbox, follow("mallory", aliceLibrary), remote.key("mallory"))).status).toBe(202);
    await settled();
    expect(await followState("mallory", aliceLibrary)).toBeUndefined();
    // Another actor of the same server is not blocked.
    expect((await remote.post(`${app.url}/inbox`, follow("bob", aliceLibrary), remote.key("bob"))).status).toBe(202);
    await waitUntil(async () => (await followState("bob", aliceLibrary)) === "accepted", { what: "bob's follow" });
  });

  it("answers bad input with a 4xx, and another person's or an unknown block with 404", async () => {
    for (const actor of ["nope", "ftp://example.org/a", 42]) expect((await alice.post("/api/v1/me/blocks", { actor })).status).toBe(400);
    const local = await alice.post("/api/v1/me/blocks", { actor: `${TEST_ORIGIN}/actors/carol` });
    expect([local.status, local.body.error.code]).toEqual([400, "local_actor"]);
    const blocked = (await alice.get("/api/v1/me/blocks")).body.items[0].actor.id;
    expect((await carol.request("DELETE", `/api/v1/me/blocks/${blocked}`)).status).toBe(404);
    expect((await alice.request("DELETE", `/api/v1/me/blocks/${randomUUID()}`)).status).toBe(404);
    expect((await new TestClient(app.url).get("/api/v1/me/blocks")).status).toBe(401);
  });

  it("lifted, lets its follows in again; both decisions are logged as the person's", async () => {
    const blocked = (await alice.get("/api/v1/me/blocks")).body.items[0].actor.id;
    expect((await alice.request("DELETE", `/api/v1/me/blocks/${blocked}`)).status).toBe(204);
    expect((await remote.post(`${app.url}/inbox`, follow("mallory", aliceLibrary), remote.key("mallory"))).status).toBe(202);
    await waitUntil(async () => (await followState("mallory", aliceLibrary)) === "accepted", { what: "mallory's follow" });
    const log = (await admin.get("/api/v1/admin/moderation-log")).body.items.map((e: any) => [e.action, e.target, e.moderator.username, e.detail]);
    expect(log).toEqual([
      ["user_unblock", remote.actorId("mallory"), "alice", {}],
      ["user_block", remote.actorId("mallory"), "alice", { followsDropped: 1 }],
    ]);
  });
});

describe("a report from another server", () => {
  let track: { trackId: string; uploadId: string };

  it("in Funkwhale's shape (its service actor, one object, a #type Hashtag) reaches the admins' queue", async () => {
    track = await seedTrack(app, aliceLibrary.id, { tags: { TITLE: "Loud Song", ARTIST: "Alice", ALBUM: "Home" } });
    const flag = {
      "@context": FUNKWHALE_CONTEXT,
      type: "Flag",
      id: `${remote.origin}/federation/reports/${randomUUID()}`,
      actor: remote.actorId("service"),
      object: [collectionOf(aliceLibrary)],
      content: "This library shares music it has no right to share.",
      tag: [{ type: "Hashtag", name: "#takedown_request" }],
    };
    expect((await remote.post(`${app.url}/inbox`, flag, remote.key("service"))).status).toBe(202);
    const [report] = await waitUntil(async () => ((await openReports()).length ? openReports() : undefined), { what: "the report" });
    expect(report).toMatchObject({
      fid: flag.id,
      reporter: { fid: remote.actorId("service"), domain: new URL(remote.origin).host },
      content: flag.content,
      category: "takedown_request",
      state: "open",
      targets: [{ fid: collectionOf(aliceLibrary), kind: "library", id: aliceLibrary.id, name: "Alice's shelf" }],
      resolvedBy: null,
    });
    // Sent again (a retry): one report.
    expect((await remote.post(`${app.url}/inbox`, flag, remote.key("service"))).status).toBe(202);
    await settled();
    expect(await openReports()).toHaveLength(1);
  });

  it("in Mastodon's shape (a list of the account and its posts, content) names what is ours", async () => {
    const flag = {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${remote.origin}/${randomUUID()}`,
      type: "Flag",
      actor: remote.actorId("instance"),
      content: "Spam",
      object: [`${TEST_ORIGIN}/actors/alice`, `${TEST_ORIGIN}/federation/uploads/${track.uploadId}`, `${remote.origin}/statuses/1`],
    };
    expect((await remote.post(`${app.url}/inbox`, flag, remote.key("instance"))).status).toBe(202);
    const report = await waitUntil(async () => (await openReports()).find((r) => r.fid === flag.id), { what: "the report" });
    expect(report.targets).toEqual([
      { fid: `${TEST_ORIGIN}/actors/alice`, kind: "user", id: expect.any(String), name: "alice" },
      { fid: flag.object[1], kind: "track", id: track.trackId, name: "Loud Song" },
      { fid: flag.object[2], kind: "unknown", id: null, name: null },
    ]);
    expect(report).toMatchObject({ content: "Spam", category: null });
  });

  it("naming nothing of ours is not queued", async () => {
    const flag = { "@context": "https://www.w3.org/ns/activitystreams", id: `${remote.origin}/${randomUUID()}`, type: "Flag", actor: remote.actorId("instance"), object: [`${remote.origin}/statuses/2`, `${TEST_ORIGIN}/federation/libraries/${randomUUID()}`] };
    expect((await remote.post(`${app.url}/inbox`, flag, remote.key("instance"))).status).toBe(202);
    await settled();
    expect((await openReports()).map((r) => r.fid)).not.toContain(flag.id);
  });

  it("is resolved by an admin, saying what was done, and logged; only admins may", async () => {
    const [first] = await openReports();
    expect((await alice.request("PATCH", `/api/v1/admin/reports/${first!.id}`, { json: { state: "resolved" } })).status).toBe(403);
    const res = await admin.request("PATCH", `/api/v1/admin/reports/${first!.id}`, { json: { state: "resolved", resolution: "Asked alice to make it private" } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: "resolved", resolution: "Asked alice to make it private", resolvedBy: { username: "operator" }, resolvedAt: expect.any(String) });
    expect((await openReports()).map((r) => r.id)).not.toContain(first!.id);
    expect((await admin.get("/api/v1/admin/reports?state=resolved")).body.items.map((r: any) => r.id)).toEqual([first!.id]);
    const [entry] = (await admin.get("/api/v1/admin/moderation-log")).body.items;
    expect(entry).toMatchObject({ action: "report_resolve", target: first!.id, detail: { resolution: "Asked alice to make it private" }, moderator: { username: "operator" } });
  });
});
