import { randomUUID } from "node:crypto";
import { Follow } from "@fedify/vocab";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queuedFollowPublisher } from "../../core/fediverse/follow-publisher.ts";
import { actorOfKeyId, signatureHeaders } from "../../core/fediverse/http-signatures.ts";
import { RemoteLibraryScanner } from "../../core/fediverse/remote-library-scan.ts";
import { outboundPolicy } from "../../core/fediverse/safe-fetch.ts";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTrack } from "../helpers/factories.ts";
import { type FakeLibraryServer, startFakeLibraryServer } from "../helpers/fake-library-server.ts";
import { type RemoteActorServer, startRemoteActorServer } from "../helpers/remote-actor-server.ts";
import { waitUntil } from "../helpers/wait.ts";

// Admins blocking and silencing whole servers (issue 17 point 5). Other servers are test servers that
// sign for real (remote-actor-server: actors whose keys Fedify and our verifier read; fake-library-server:
// a followed library we scan); every activity goes through the real inboxes, queue and worker.

let app: TestApp;
let root: TestClient; // the administrator (first account)
let alice: TestClient; // owns a public library; follows a remote one
let carol: TestClient; // neither
let remote: RemoteActorServer; // mallory's server, to be blocked
let quiet: RemoteActorServer; // a server to be silenced
let shelf: FakeLibraryServer; // a library alice follows, on a server to be blocked
let library: { id: string; actorId: string };
let remoteLibraryId: string;

const hostOf = (origin: string) => new URL(origin).host;
const collection = () => `${TEST_ORIGIN}/federation/libraries/${library.id}`;
const follow = (server: RemoteActorServer, name: string) => ({
  "@context": "https://www.w3.org/ns/activitystreams",
  id: `${server.actorId(name)}#follows/${randomUUID()}`,
  type: "Follow",
  actor: server.actorId(name),
  object: collection(),
});
const followState = async (server: RemoteActorServer, name: string) =>
  (await app.db.pool.query("SELECT f.state FROM follow f JOIN actor a ON a.id = f.follower_id WHERE a.fid = $1 AND f.library_id = $2", [server.actorId(name), library.id]))
    .rows[0]?.state as string | undefined;
const fedifyJobs = async () => (await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier IN ('fedify', 'send_follow_activity')")).rows[0].n as number;
const delivered = (server: RemoteActorServer, type: string) => server.inbox.filter((r) => r.activity.type === type);
const titles = async (client: TestClient) => ((await client.get("/api/v1/tracks")).body.items as { title: string }[]).map((t) => t.title).sort();

beforeAll(async () => {
  [remote, quiet] = await Promise.all([startRemoteActorServer(), startRemoteActorServer()]);
  app = await startTestApp({ worker: true, env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
  [root, alice, carol] = [new TestClient(app.url), new TestClient(app.url), new TestClient(app.url)];
  for (const [client, name] of [[root, "operator"], [alice, "alice"], [carol, "carol"]] as const) expect((await client.signup(name)).status).toBe(201);
  library = (await alice.post("/api/v1/libraries", { name: "Open shelf", privacy: "public" })).body;

  // Alice follows Bob's library on `shelf` (accepted), and its scan brought one track.
  const pool = app.db.pool;
  shelf = await startFakeLibraryServer({
    publicKeyOf: async (keyId) =>
      (await pool.query("SELECT rsa_public_jwk FROM actor WHERE fid = $1 AND is_local", [actorOfKeyId(keyId)])).rows[0]?.rsa_public_jwk ?? null,
  });
  shelf.items = [shelf.audio({ title: "Far Away", artist: "Remote Artist", album: "Remote Album", duration: 60 })];
  const bob = randomUUID();
  await pool.query("INSERT INTO actor (id, fid, type, username, domain, is_local, inbox_url) VALUES ($1, $2, 'Person', 'bob', $3, false, $4)", [
    bob, shelf.actorFid, hostOf(shelf.origin), `${shelf.actorFid}/inbox`,
  ]);
  remoteLibraryId = randomUUID();
  await pool.query("INSERT INTO library (id, actor_id, fid, name) VALUES ($1, $2, $3, 'Bob''s music')", [remoteLibraryId, bob, shelf.libraryFid]);
  await pool.query(
    `INSERT INTO follow (id, fid, follower_id, library_id, state)
     SELECT $1, $2, u.actor_id, $3, 'accepted' FROM app_user u WHERE u.username = 'alice'`,
    [randomUUID(), `${TEST_ORIGIN}/actors/alice#follows/${randomUUID()}`, remoteLibraryId],
  );
  await new RemoteLibraryScanner({ pool, orm: app.db.orm, policy: outboundPolicy(app.config), uploads: app.deps.uploads }).run(remoteLibraryId, { force: true });
  // And a track of alice's own, which stays whatever is blocked.
  await seedTrack(app, library.id, { tags: { TITLE: "Home Song", ARTIST: "Alice", ALBUM: "Home" } });
});
afterAll(async () => {
  await app?.close();
  await Promise.all([remote?.close(), quiet?.close(), shelf?.close()]);
});

describe("the admin routes", () => {
  it("answer 401 signed out and 403 to people who are not admins", async () => {
    const anonymous = new TestClient(app.url);
    const calls: [string, string, unknown?][] = [
      ["GET", "/api/v1/admin/domains"],
      ["PUT", "/api/v1/admin/domains/example.org", { blocked: true }],
      ["GET", "/api/v1/admin/reports"],
      ["PATCH", `/api/v1/admin/reports/${randomUUID()}`, { state: "resolved" }],
      ["GET", "/api/v1/admin/moderation-log"],
    ];
    for (const [method, path, json] of calls) {
      expect([path, (await carol.request(method, path, { json })).status]).toEqual([path, 403]);
      expect([path, (await anonymous.request(method, path, { json })).status]).toEqual([path, 401]);
    }
    expect((await app.db.pool.query("SELECT count(*)::int AS n FROM domain WHERE name = 'example.org'")).rows[0].n).toBe(0);
  });

  it("answer bad input with a 4xx that says why", async () => {
    const cases: [string, string, unknown, number][] = [
      ["PUT", "/api/v1/admin/domains/not%20a%20domain", { blocked: true }, 400],
      ["PUT", "/api/v1/admin/domains/a.example%2Fpath", { blocked: true }, 400],
      ["PUT", "/api/v1/admin/domains/a.example", {}, 400],
      ["PUT", "/api/v1/admin/domains/a.example", { blocked: "yes" }, 400],
      ["PUT", "/api/v1/admin/domains/a.example", { deleted: true }, 400],
      ["PATCH", `/api/v1/admin/reports/${randomUUID()}`, { state: "resolved" }, 404],
      ["PATCH", "/api/v1/admin/reports/nope", { state: "resolved" }, 404],
      ["GET", "/api/v1/admin/reports?state=maybe", undefined, 400],
    ];
    for (const [method, path, json, status] of cases) {
      const res = await root.request(method, path, { json });
      expect([path, res.status]).toEqual([path, status]);
      expect(res.body.error.code).toEqual(expect.any(String));
    }
  });
});

describe("blocking a server", () => {
  it("before: its actor follows alice's library, and our Accept reaches it", async () => {
    expect((await remote.post(`${app.url}/inbox`, follow(remote, "mallory"), remote.key("mallory"))).status).toBe(202);
    await waitUntil(async () => (await followState(remote, "mallory")) === "accepted", { what: "mallory's follow" });
    await waitUntil(() => delivered(remote, "Accept").length === 1, { what: "the Accept at mallory's server" });
  });

  it("drops its follows at once, and logs who decided", async () => {
    const res = await root.request("PUT", `/api/v1/admin/domains/${encodeURIComponent(hostOf(remote.origin))}`, { json: { blocked: true } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: hostOf(remote.origin), blocked: true, silenced: false, allowed: false, followsDropped: 1 });
    expect(await followState(remote, "mallory")).toBeUndefined();
    expect((await alice.get(`/api/v1/libraries/${library.id}/followers`)).body.items).toEqual([]);
    const listed = (await root.get("/api/v1/admin/domains")).body;
    expect(listed).toMatchObject({ mode: "open", items: [expect.objectContaining({ name: hostOf(remote.origin), blocked: true })] });
  });

  it("refuses what it sends with 403 before any work: Follow, Funkwhale's raw activities, other actors of it", async () => {
    const again = await remote.post(`${app.url}/inbox`, follow(remote, "mallory"), remote.key("mallory"));
    expect(again.status).toBe(403);
    expect((await again.json()).error.code).toBe("domain_blocked");
    const personal = await remote.post(`${app.url}/actors/alice/inbox`, follow(remote, "eve"), remote.key("eve"));
    expect(personal.status).toBe(403);
    const create = { type: "Create", actor: remote.actorId("mallory"), object: { type: "Audio", id: `${remote.origin}/audio/1` } };
    expect((await remote.post(`${app.url}/inbox`, create, remote.key("mallory"))).status).toBe(403);
    // A key of that server signing for an actor elsewhere is refused too: the gate reads the key's host.
    expect((await remote.post(`${app.url}/inbox`, follow(quiet, "someone"), remote.key("mallory"))).status).toBe(403);
    await waitUntil(async () => (await fedifyJobs()) === 0, { what: "the queue to drain" });
    expect(await followState(remote, "mallory")).toBeUndefined();
  });

  it("refuses its signed GETs of our documents; anonymous readers of a public library still read it", async () => {
    const url = `${app.url}/federation/libraries/${library.id}`;
    const signed = await fetch(url, { headers: { ...signatureHeaders("GET", new URL(url), remote.key("mallory")), accept: "application/activity+json" } });
    expect(signed.status).toBe(403);
    const actor = await fetch(library.actorId.replace(TEST_ORIGIN, app.url), {
      headers: { ...signatureHeaders("GET", new URL(library.actorId.replace(TEST_ORIGIN, app.url)), remote.key("mallory")), accept: "application/activity+json" },
    });
    expect(actor.status).toBe(403);
    expect((await fetch(url, { headers: { accept: "application/activity+json" } })).status).toBe(200);
  });

  it("drops our deliveries to it, whichever task queued them", async () => {
    const before = remote.inbox.length;
    // The follow flow's task (an owner's answer queued before the block, say).
    const mallory = { fid: remote.actorId("mallory"), inboxUrl: `${remote.actorId("mallory")}/inbox`, sharedInboxUrl: `${remote.origin}/inbox` };
    const libraryActor = new URL(library.actorId).pathname.split("/").pop()!;
    await queuedFollowPublisher(app.db.pool).sendReply("Reject", libraryActor, mallory, {
      fid: `${mallory.fid}#follows/1`, followerFid: mallory.fid, objectFid: collection(),
    }, `${library.actorId}#rejects/${randomUUID()}`);
    // Fedify's own sendActivity, as any later publisher would call it.
    const ctx = app.deps.federation.createContext(new URL(TEST_ORIGIN), undefined);
    await ctx.sendActivity({ identifier: "alice" }, { id: new URL(mallory.fid), inboxId: new URL(mallory.inboxUrl) },
      new Follow({ id: new URL(`${TEST_ORIGIN}/actors/alice#follows/${randomUUID()}`), actor: ctx.getActorUri("alice"), object: new URL(mallory.fid) }));
    await waitUntil(async () => (await fedifyJobs()) === 0, { what: "the deliveries to be done" });
    expect(remote.inbox.length).toBe(before);
  });

  it("hides what alice follows there from everyone here, by the visibility rule alone", async () => {
    expect(await titles(alice)).toEqual(["Far Away", "Home Song"]);
    // The rule, before the block's cleanup: a blocked server's library is hidden even while followed.
    await app.db.pool.query("INSERT INTO domain (name, blocked) VALUES ($1, true)", [hostOf(shelf.origin)]);
    expect(await titles(alice)).toEqual(["Home Song"]);
    expect((await alice.get(`/api/v1/libraries/${remoteLibraryId}`)).status).toBe(404);
    await app.db.pool.query("UPDATE domain SET blocked = false WHERE name = $1", [hostOf(shelf.origin)]);
    expect(await titles(alice)).toEqual(["Far Away", "Home Song"]);
  });

  it("drops our people's follows of its libraries when blocked, with what they brought", async () => {
    const res = await root.request("PUT", `/api/v1/admin/domains/${encodeURIComponent(shelf.origin)}`, { json: { blocked: true } });
    expect(res.body).toMatchObject({ name: hostOf(shelf.origin), blocked: true, followsDropped: 1 });
    expect((await alice.get("/api/v1/federation/follows")).body.items).toEqual([]);
    expect(await titles(alice)).toEqual(["Home Song"]);
    const uploads = await app.db.pool.query("SELECT count(*)::int AS n FROM upload WHERE library_id = $1", [remoteLibraryId]);
    expect(uploads.rows[0].n).toBe(0);
  });

  it("refuses to look up or follow anything there", async () => {
    for (const target of [shelf.libraryFid, `@bob@${hostOf(shelf.origin)}`]) {
      const res = await alice.post("/api/v1/federation/follows", { target });
      expect([target, res.status, res.body.error?.code]).toEqual([target, 403, "domain_blocked"]);
    }
    expect((await alice.get(`/api/v1/federation/lookup?q=${encodeURIComponent(shelf.libraryFid)}`)).status).toBe(403);
  });

  it("unblocked, accepts its follows again", async () => {
    const res = await root.request("PUT", `/api/v1/admin/domains/${encodeURIComponent(hostOf(remote.origin))}`, { json: { blocked: false } });
    expect(res.body).toMatchObject({ blocked: false, followsDropped: 0 });
    expect((await remote.post(`${app.url}/inbox`, follow(remote, "mallory"), remote.key("mallory"))).status).toBe(202);
    await waitUntil(async () => (await followState(remote, "mallory")) === "accepted", { what: "mallory's follow" });
  });
});

describe("a person's block of the actor speaking for a library", () => {
  it("keeps them from following it", async () => {
    await root.request("PUT", `/api/v1/admin/domains/${encodeURIComponent(hostOf(shelf.origin))}`, { json: { blocked: false } });
    expect((await alice.post("/api/v1/me/blocks", { actor: shelf.actorFid })).status).toBe(201);
    // The lookup reads the library's actor too.
    shelf.overrides.set(new URL(shelf.actorFid).pathname, () => ({
      status: 200,
      body: { "@context": "https://www.w3.org/ns/activitystreams", id: shelf.actorFid, type: "Person", preferredUsername: "bob", inbox: `${shelf.actorFid}/inbox` },
    }));
    const res = await alice.post("/api/v1/federation/follows", { target: shelf.libraryFid });
    expect([res.status, res.body.error?.code]).toEqual([409, "actor_blocked"]);
    expect((await alice.get("/api/v1/federation/follows")).body.items).toEqual([]);
  });
});

describe("silencing a server", () => {
  it("keeps its follows working, and is listed", async () => {
    const res = await root.request("PUT", `/api/v1/admin/domains/${encodeURIComponent(hostOf(quiet.origin))}`, { json: { silenced: true } });
    expect(res.body).toMatchObject({ silenced: true, blocked: false, followsDropped: 0 });
    expect((await quiet.post(`${app.url}/inbox`, follow(quiet, "hush"), quiet.key("hush"))).status).toBe(202);
    await waitUntil(async () => (await followState(quiet, "hush")) === "accepted", { what: "hush's follow" });
    await waitUntil(() => delivered(quiet, "Accept").length === 1, { what: "the Accept at the silenced server" });
    const listed = (await root.get("/api/v1/admin/domains")).body.items.find((d: { name: string }) => d.name === hostOf(quiet.origin));
    expect(listed).toMatchObject({ silenced: true, blocked: false });
  });
});

describe("the moderation log", () => {
  it("lists every decision, newest first, with the admin who made it", async () => {
    const res = await root.get("/api/v1/admin/moderation-log");
    expect(res.status).toBe(200);
    const entries = (res.body.items as { action: string; target: string; detail: object; moderator: { username: string } }[]).map((e) => [e.action, e.target, e.detail, e.moderator.username]);
    expect(entries).toEqual([
      ["domain_silence", hostOf(quiet.origin), {}, "operator"],
      ["user_block", shelf.actorFid, { followsDropped: 0 }, "alice"],
      ["domain_unblock", hostOf(shelf.origin), {}, "operator"],
      ["domain_unblock", hostOf(remote.origin), {}, "operator"],
      ["domain_block", hostOf(shelf.origin), { followsDropped: 1 }, "operator"],
      ["domain_block", hostOf(remote.origin), { followsDropped: 1 }, "operator"],
    ]);
    expect(res.body.total).toBe(6);
    expect((await root.get("/api/v1/admin/moderation-log?limit=1&offset=1")).body.items[0].action).toBe("user_block");
  });
});
