import { randomUUID } from "node:crypto";
import { Accept, Follow, Reject } from "@fedify/vocab";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { freePort } from "../helpers/ports.ts";
import { openEventStream, type EventStream } from "../helpers/sse.ts";
import { waitUntil } from "../helpers/wait.ts";
import type { Follower, Following } from "../../core/fediverse/follows.service.ts";

// Two servers in one process, A and B, each with its worker: people of B follow libraries of A. Every
// activity really travels: signed, queued, delivered over loopback HTTP, read by the other's inbox.

let a: TestApp;
let b: TestApp;
let alice: TestClient; // on A, owns the libraries
let carol: TestClient; // on A, owns nothing
let bob: TestClient; // on B, follows
let dave: TestClient; // on B, follows nothing
let openLibrary: { id: string; actorId: string };
let secretLibrary: { id: string; actorId: string };
const streams: EventStream[] = [];

async function startServer(): Promise<TestApp> {
  const port = await freePort();
  return startTestApp({
    worker: true,
    env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" },
  });
}

beforeAll(async () => {
  [a, b] = await Promise.all([startServer(), startServer()]);
  [alice, carol, bob, dave] = [new TestClient(a.url), new TestClient(a.url), new TestClient(b.url), new TestClient(b.url)];
  await Promise.all([alice.signup("alice"), carol.signup("carol"), bob.signup("bob"), dave.signup("dave")]);
  openLibrary = (await alice.post("/api/v1/libraries", { name: "Open shelf", description: "For everyone", privacy: "public" })).body;
  secretLibrary = (await alice.post("/api/v1/libraries", { name: "Secret shelf", privacy: "private" })).body;
});
afterAll(async () => {
  for (const stream of streams) stream.close();
  await Promise.all([a?.close(), b?.close()]);
});

const handleOf = (library: { actorId: string }) => `@${new URL(library.actorId).pathname.split("/").pop()}@${new URL(a.url).host}`;
const collectionOf = (library: { id: string }) => `${a.url}/federation/libraries/${library.id}`;
const following = async (client: TestClient) => (await client.get<{ items: Following[] }>("/api/v1/federation/follows")).body.items;
const followers = async (library: { id: string }) => (await alice.get<{ items: Follower[] }>(`/api/v1/libraries/${library.id}/followers`)).body.items;
const stateOn = async (client: TestClient, fid: string) => (await following(client)).find((f) => f.library.fid === fid)?.state;
const jobs = async (app: TestApp, task: string) =>
  (await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = $1", [task])).rows[0].n as number;
/** Every queued activity of A delivered, then every delivery B received processed. */
const settled = async () => {
  await waitUntil(async () => (await jobs(a, "fedify")) === 0, { what: "A's deliveries" });
  await waitUntil(async () => (await jobs(b, "fedify")) === 0, { what: "B's inbox" });
};

describe("looking up a library on another server", () => {
  it("resolves a library's handle to its preview: name, count, privacy, the actor speaking for it and its owner", async () => {
    const res = await bob.get(`/api/v1/federation/lookup?q=${encodeURIComponent(handleOf(openLibrary))}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      fid: collectionOf(openLibrary),
      name: "Open shelf",
      summary: "For everyone",
      totalItems: 0,
      privacy: "public",
      actor: { fid: openLibrary.actorId, handle: handleOf(openLibrary) },
      owner: { fid: `${a.url}/actors/alice`, handle: `@alice@${new URL(a.url).host}` },
      follow: null,
    });
  });

  it("resolves the Library document's URL and the library actor's URL alike", async () => {
    for (const q of [collectionOf(openLibrary), openLibrary.actorId]) {
      const res = await bob.get(`/api/v1/federation/lookup?q=${encodeURIComponent(q)}`);
      expect([q, res.status, res.body.fid]).toEqual([q, 200, collectionOf(openLibrary)]);
    }
  });

  it("shows a private library through its actor, as restricted, with its count (the root answers anyone)", async () => {
    const res = await bob.get(`/api/v1/federation/lookup?q=${encodeURIComponent(secretLibrary.actorId)}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ fid: collectionOf(secretLibrary), name: "Secret shelf", privacy: "restricted", totalItems: 0 });
    expect(res.body.owner.handle).toBe(`@alice@${new URL(a.url).host}`);
  });

  it("answers input naming no library with a 4xx that says why", async () => {
    const cases: [string, number, string][] = [
      ["nonsense", 400, "invalid_target"],
      ["ftp://example.org/library", 400, "invalid_target"],
      [`@nobody@${new URL(a.url).host}`, 400, "unknown_handle"],
      [`${a.url}/federation/libraries/${randomUUID()}`, 400, "remote_not_found"],
      [`${a.url}/actors/alice`, 400, "not_a_library"],
      [`${b.url}/federation/libraries/${randomUUID()}`, 400, "local_library"],
      [`@someone@${new URL(b.url).host}`, 400, "local_library"],
    ];
    for (const [q, status, code] of cases) {
      const res = await bob.get(`/api/v1/federation/lookup?q=${encodeURIComponent(q)}`);
      expect([q, res.status, res.body.error?.code]).toEqual([q, status, code]);
      expect(res.body.error.message.length).toBeGreaterThan(10);
    }
    expect((await bob.get("/api/v1/federation/lookup")).status).toBe(400);
  });

  it("answers 503 naming the server when it cannot be reached", async () => {
    const port = await freePort();
    const res = await bob.get(`/api/v1/federation/lookup?q=${encodeURIComponent(`http://127.0.0.1:${port}/library`)}`);
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: "remote_unreachable", message: expect.stringContaining(`127.0.0.1:${port}`) });
  });

  it("is limited per person (each lookup costs requests to other servers)", async () => {
    const erin = new TestClient(b.url);
    await erin.signup("erin");
    const statuses = [];
    for (let i = 0; i < 31; i++) statuses.push((await erin.get("/api/v1/federation/lookup?q=nonsense")).status);
    expect(statuses.slice(0, 30).every((s) => s === 400)).toBe(true);
    expect(statuses[30]).toBe(429);
    expect((await dave.get("/api/v1/federation/lookup?q=nonsense")).status).toBe(400);
  });

  it("needs a signed-in person", async () => {
    expect((await new TestClient(b.url).get(`/api/v1/federation/lookup?q=x@y.z`)).status).toBe(401);
  });
});

describe("following a public library", () => {
  it("is accepted at once, lists on both sides, and queues the library's scan", async () => {
    const res = await bob.post("/api/v1/federation/follows", { target: handleOf(openLibrary) });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ state: expect.stringMatching(/pending|accepted/), library: { fid: collectionOf(openLibrary), name: "Open shelf" } });
    await waitUntil(async () => (await stateOn(bob, collectionOf(openLibrary))) === "accepted", { what: "the Accept" });

    const [follower] = await followers(openLibrary);
    expect(follower).toMatchObject({ state: "accepted", actor: { fid: `${b.url}/actors/bob`, handle: `@bob@${new URL(b.url).host}`, username: "bob" } });
    // The Accept queued a scan of it, signed as bob (the worker runs it at once).
    const { rows } = await b.db.pool.query(
      "SELECT s.library_id, u.username FROM remote_scan s JOIN app_user u ON u.id = s.requested_by_id WHERE s.library_id = $1",
      [res.body.library.id],
    );
    expect(rows).toEqual([{ library_id: res.body.library.id, username: "bob" }]);
    // The lookup now says bob follows it.
    const preview = await bob.get(`/api/v1/federation/lookup?q=${encodeURIComponent(handleOf(openLibrary))}`);
    expect(preview.body.follow).toEqual({ id: res.body.id, state: "accepted" });
  });

  it("is accepted at once too for a private library that does not approve follows", async () => {
    const library = (await alice.post("/api/v1/libraries", { name: "Open door", privacy: "private", approveFollows: false })).body;
    expect((await bob.post("/api/v1/federation/follows", { target: library.actorId })).status).toBe(201);
    await waitUntil(async () => (await stateOn(bob, collectionOf(library))) === "accepted", { what: "the Accept" });
    expect((await followers(library)).map((f) => f.state)).toEqual(["accepted"]);
  });
});

describe("following a private library", () => {
  let followId: string;
  let remoteFollowId: string;

  it("waits for the owner, who is told live and sees the request", async () => {
    const aliceEvents = await openEventStream(alice);
    streams.push(aliceEvents);
    const res = await bob.post("/api/v1/federation/follows", { target: secretLibrary.actorId });
    expect(res.status).toBe(201);
    expect(res.body.state).toBe("pending");
    followId = res.body.id;
    const event = await aliceEvents.waitFor((e) => e.event === "follow" && e.data.libraryId === secretLibrary.id, 20_000);
    expect(event.data).toMatchObject({ side: "follower", state: "pending" });
    const [request] = await followers(secretLibrary);
    expect(request).toMatchObject({ id: event.data.id, state: "pending", actor: { handle: `@bob@${new URL(b.url).host}` } });
    remoteFollowId = request!.id;
    expect(await stateOn(bob, collectionOf(secretLibrary))).toBe("pending");
  });

  it("hides the followers and their answers from anyone but the owner (404)", async () => {
    expect((await carol.get(`/api/v1/libraries/${secretLibrary.id}/followers`)).status).toBe(404);
    expect((await carol.post(`/api/v1/libraries/${secretLibrary.id}/followers/${remoteFollowId}/approve`)).status).toBe(404);
    expect((await carol.post(`/api/v1/libraries/${secretLibrary.id}/followers/${remoteFollowId}/reject`)).status).toBe(404);
    expect((await alice.post(`/api/v1/libraries/${openLibrary.id}/followers/${remoteFollowId}/approve`)).status).toBe(404);
    expect((await alice.get(`/api/v1/libraries/${randomUUID()}/followers`)).status).toBe(404);
    expect((await new TestClient(a.url).get(`/api/v1/libraries/${secretLibrary.id}/followers`)).status).toBe(401);
  });

  it("is followed by a second person through its id alone, and their unfollow leaves bob's follow", async () => {
    // Its collection answers followers only: B reads it again through the actor it knows speaks for it.
    const res = await dave.post("/api/v1/federation/follows", { target: collectionOf(secretLibrary) });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ state: "pending", library: { name: "Secret shelf" } });
    await waitUntil(async () => (await followers(secretLibrary)).length === 2, { what: "dave's Follow" });
    expect((await dave.request("DELETE", `/api/v1/federation/follows/${res.body.id}`)).status).toBe(204);
    await waitUntil(async () => (await followers(secretLibrary)).length === 1, { what: "dave's Undo" });
    expect(await stateOn(bob, collectionOf(secretLibrary))).toBe("pending");
  });

  it("is accepted when the owner approves, and bob is told live", async () => {
    const bobEvents = await openEventStream(bob);
    streams.push(bobEvents);
    const approved = await alice.post(`/api/v1/libraries/${secretLibrary.id}/followers/${remoteFollowId}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body.state).toBe("accepted");
    const event = await bobEvents.waitFor((e) => e.event === "follow" && e.data.id === followId && e.data.state === "accepted", 20_000);
    expect(event.data.side).toBe("following");
    expect(await stateOn(bob, collectionOf(secretLibrary))).toBe("accepted");
  });

  it("is refused when the owner revokes it, and accepted again when approved again", async () => {
    const revoked = await alice.post(`/api/v1/libraries/${secretLibrary.id}/followers/${remoteFollowId}/reject`);
    expect(revoked.body.state).toBe("rejected");
    await waitUntil(async () => (await stateOn(bob, collectionOf(secretLibrary))) === "rejected", { what: "the Reject" });
    await alice.post(`/api/v1/libraries/${secretLibrary.id}/followers/${remoteFollowId}/approve`);
    await waitUntil(async () => (await stateOn(bob, collectionOf(secretLibrary))) === "accepted", { what: "the second Accept" });
  });

  it("matches Accept and Reject by follower, library and the library's actor, whatever their ids", async () => {
    const ctx = a.deps.federation.createContext(new URL(a.config.http.publicUrl), undefined);
    const libraryActor = new URL(secretLibrary.actorId).pathname.split("/").pop()!;
    const bobActor = { id: new URL(`${b.url}/actors/bob`), inboxId: new URL(`${b.url}/actors/bob/inbox`) };
    // Ids B never issued, as Funkwhale rebuilds them.
    const foreignFollow = (actor: string) =>
      new Follow({ id: new URL(`${a.url}/federation/follows/${randomUUID()}`), actor: bobActor.id, object: new URL(collectionOf(secretLibrary)), to: new URL(actor) });
    const reply = (Kind: typeof Accept | typeof Reject, actor: string) =>
      new Kind({ id: new URL(`${a.url}/elsewhere/${randomUUID()}`), actor: new URL(actor), object: foreignFollow(actor), to: bobActor.id });

    // From alice's own actor rather than the library's: not the actor speaking for it, so ignored.
    await ctx.sendActivity({ identifier: "alice" }, bobActor, reply(Reject, `${a.url}/actors/alice`));
    await settled();
    expect(await stateOn(bob, collectionOf(secretLibrary))).toBe("accepted");

    await ctx.sendActivity({ identifier: libraryActor }, bobActor, reply(Reject, secretLibrary.actorId));
    await waitUntil(async () => (await stateOn(bob, collectionOf(secretLibrary))) === "rejected", { what: "the foreign Reject" });
    await ctx.sendActivity({ identifier: libraryActor }, bobActor, reply(Accept, secretLibrary.actorId));
    await waitUntil(async () => (await stateOn(bob, collectionOf(secretLibrary))) === "accepted", { what: "the foreign Accept" });
  });

  it("ends with unfollow: Undo reaches A, and B drops the library and its copies", async () => {
    const libraryId = (await following(bob)).find((f) => f.id === followId)!.library.id;
    // A copy the scan would have made, with its catalog rows.
    await seedRemoteTrack(b, libraryId);
    expect((await dave.request("DELETE", `/api/v1/federation/follows/${followId}`)).status).toBe(404);
    expect((await bob.request("DELETE", `/api/v1/federation/follows/${randomUUID()}`)).status).toBe(404);

    expect((await bob.request("DELETE", `/api/v1/federation/follows/${followId}`)).status).toBe(204);
    expect(await stateOn(bob, collectionOf(secretLibrary))).toBeUndefined();
    const left = await b.db.pool.query(
      `SELECT (SELECT count(*) FROM library WHERE id = $1)::int AS libraries, (SELECT count(*) FROM upload WHERE library_id = $1)::int AS uploads,
              (SELECT count(*) FROM track WHERE title = 'Remote song')::int AS tracks, (SELECT count(*) FROM artist WHERE name = 'Remote band')::int AS artists`,
      [libraryId],
    );
    expect(left.rows[0]).toEqual({ libraries: 0, uploads: 0, tracks: 0, artists: 0 });
    await waitUntil(async () => (await followers(secretLibrary)).length === 0, { what: "the Undo to reach A" });
    // The public library is still followed.
    expect((await following(bob)).map((f) => f.library.name).sort()).toEqual(["Open door", "Open shelf"]);
    expect(await following(dave)).toEqual([]);
  });
});

/** A remote upload of a track with its artist and album, as a scan leaves them. */
async function seedRemoteTrack(app: TestApp, libraryId: string): Promise<void> {
  const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const origin = a.url;
  await app.db.pool.query(
    `WITH ar AS (INSERT INTO artist (id, name, normalized_name, fid) VALUES ($1::uuid, 'Remote band', 'remote band', $5 || '/artists/' || $1)),
          al AS (INSERT INTO album (id, title, normalized_title, album_artist_id, fid)
                 VALUES ($2::uuid, 'Remote album', 'remote album', $1::uuid, $5 || '/albums/' || $2)),
          tr AS (INSERT INTO track (id, title, normalized_title, album_id, artist_id, fid)
                 VALUES ($3::uuid, 'Remote song', 'remote song', $2::uuid, $1::uuid, $5 || '/tracks/' || $3))
     INSERT INTO upload (id, library_id, track_id, storage, source_url, fid, original_name, size, status)
     VALUES ($4::uuid, $6, $3::uuid, 'remote', $5 || '/stream/' || $4, $5 || '/uploads/' || $4, 'song.mp3', 1000, 'finished')`,
    [...ids, origin, libraryId],
  );
}
