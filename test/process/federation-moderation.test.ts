import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queuedFollowPublisher } from "../../core/fediverse/follow-publisher.ts";
import { TestClient } from "../helpers/client.ts";
import { type PolyphonyProcess, startPolyphonyProcess } from "../helpers/polyphony-process.ts";
import { waitUntil } from "../helpers/wait.ts";

// Issue 17 points 5 and 7, end to end: two real servers (two processes, each with its own embedded
// PostgreSQL). A's admin blocks B: B's follow is dropped, B's next follow is refused, and what A had
// queued for B is never delivered.

let a: PolyphonyProcess;
let b: PolyphonyProcess;
let alice: TestClient; // A's admin, owns the library
let bob: TestClient; // on B, follows it
let dave: TestClient; // on B, tries after the block
let library: { id: string; actorId: string };

const host = (p: PolyphonyProcess) => new URL(p.url).host;
const followState = async (client: TestClient) =>
  ((await client.get("/api/v1/federation/follows")).body.items as { state: string }[])[0]?.state;
const followersOnA = async () => (await alice.get(`/api/v1/libraries/${library.id}/followers`)).body.items as { actor: { fid: string } }[];
const jobs = async (p: PolyphonyProcess, tasks: string[]) =>
  (await p.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = ANY($1) AND run_at <= now()", [tasks])).rows[0].n as number;

beforeAll(async () => {
  [a, b] = await Promise.all([startPolyphonyProcess("a"), startPolyphonyProcess("b")]);
  [alice, bob, dave] = [new TestClient(a.url), new TestClient(b.url), new TestClient(b.url)];
  await alice.signup("alice");
  await bob.signup("bob");
  await dave.signup("dave");
  library = (await alice.post("/api/v1/libraries", { name: "Alice's records", privacy: "public" })).body;
}, 240_000);
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe("a server blocked by another, two processes", () => {
  it("before the block, bob's follow is accepted both sides", async () => {
    expect((await bob.post("/api/v1/federation/follows", { target: library.actorId })).status).toBe(201);
    await waitUntil(async () => (await followState(bob)) === "accepted" || undefined, { what: "the Accept on B", timeout: 30_000 });
    expect((await followersOnA()).map((f) => f.actor.fid)).toEqual([`${b.url}/actors/bob`]);
  });

  it("blocking drops bob's follow on A at once", async () => {
    const res = await alice.request("PUT", `/api/v1/admin/domains/${encodeURIComponent(host(b))}`, { json: { blocked: true } });
    expect(res.body).toMatchObject({ blocked: true, followsDropped: 1 });
    expect(await followersOnA()).toEqual([]);
  });

  it("what A had queued for B is dropped: bob never hears of a Reject", async () => {
    // The owner's revocation, as it would be queued by the follow flow just before the block.
    const actorName = new URL(library.actorId).pathname.split("/").pop()!;
    const bobActor = (await b.pool.query("SELECT fid, inbox_url, shared_inbox_url FROM actor WHERE username = 'bob' AND is_local")).rows[0];
    const followFid = (await b.pool.query("SELECT f.fid FROM follow f JOIN actor a ON a.id = f.follower_id WHERE a.username = 'bob'")).rows[0].fid;
    await queuedFollowPublisher(a.pool).sendReply("Reject", actorName, { fid: bobActor.fid, inboxUrl: bobActor.inbox_url, sharedInboxUrl: bobActor.shared_inbox_url },
      { fid: followFid, followerFid: bobActor.fid, objectFid: `${a.url}/federation/libraries/${library.id}` }, `${library.actorId}#rejects/${randomUUID()}`);
    await waitUntil(async () => (await jobs(a, ["send_follow_activity", "fedify"])) === 0 || undefined, { what: "A's queue to drain", timeout: 30_000 });
    await waitUntil(async () => (await jobs(b, ["fedify"])) === 0 || undefined, { what: "B's inbox queue to drain", timeout: 30_000 });
    // Delivered, it would have turned bob's follow 'rejected' on B.
    expect(await followState(bob)).toBe("accepted");
  });

  it("B's next Follow is refused by A: B's delivery is answered 403 and retried later, and A records nothing", async () => {
    // Looking A up from B already fails: B's reads are signed by dave, and A refuses them.
    const lookup = await dave.post("/api/v1/federation/follows", { target: library.actorId });
    expect(lookup.status).toBeGreaterThanOrEqual(400);
    // A Follow B's worker delivers, signed by dave, as the follow flow queues it.
    const daveFid = `${b.url}/actors/dave`;
    await queuedFollowPublisher(b.pool).sendFollow("dave", { fid: library.actorId, inboxUrl: `${library.actorId}/inbox`, sharedInboxUrl: `${a.url}/inbox` },
      { fid: `${daveFid}#follows/${randomUUID()}`, followerFid: daveFid, objectFid: `${a.url}/federation/libraries/${library.id}` });
    await waitUntil(async () => {
      const { rows } = await b.pool.query(
        `SELECT 1 FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
         WHERE t.identifier = 'fedify' AND j.payload->>'activityType' LIKE '%Follow' AND (j.payload->>'attempt')::int >= 1`,
      );
      return rows.length > 0 || undefined;
    }, { what: "B's Follow to be refused and queued again", timeout: 30_000 });
    expect(await followersOnA()).toEqual([]);
  });
});
