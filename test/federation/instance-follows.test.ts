import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actorOfKeyId } from "../../core/fediverse/http-signatures.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { type FakeFunkwhalePod, FUNKWHALE_CONTEXT, startFakeFunkwhalePod } from "../helpers/fake-funkwhale-pod.ts";
import { freePort } from "../helpers/ports.ts";
import { waitUntil } from "../helpers/wait.ts";

// Instance follows (issue 17 point 6): an administrator of B names another server; B's instance actor
// follows every public library that server lists in its index of public libraries (NodeInfo
// metadata.endpoints.libraries), and once accepted and scanned, everyone signed in on B sees them. A is
// another Polyphony server (in process, its worker delivering for real); a Funkwhale pod is played by
// the fake pod, with the index Funkwhale 1.4 and 2.0 serve.

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";
let a: TestApp;
let b: TestApp;
let pod: FakeFunkwhalePod;
let alice: TestClient; // on A, owns the libraries
let admin: TestClient; // on B, first to sign up
let carol: TestClient; // on B, follows nothing herself
const shelves: Record<"open" | "second" | "secret", { id: string; bytes: Buffer }> = {} as never;

async function startServer(): Promise<TestApp> {
  const port = await freePort();
  return startTestApp({ worker: true, env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
}
const hostOf = (app: TestApp) => new URL(app.url).host;
const jobs = async (app: TestApp, task: string) =>
  (await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = $1", [task])).rows[0].n as number;
/** Every follow activity queued on B sent and delivered, then A's answers delivered and processed. */
const settled = async () => {
  for (const app of [b, b, a, b]) {
    await waitUntil(async () => (await jobs(app, "send_follow_activity")) + (await jobs(app, "fedify")) === 0, { what: "deliveries" });
  }
};
const titles = async (client: TestClient) => ((await client.get("/api/v1/tracks")).body.items as { title: string }[]).map((t) => t.title).sort();
const instanceFollows = async () => (await admin.get("/api/v1/admin/instance-follows")).body.items as { id: string; state: string; domain: string; library: { fid: string; name: string; tracks: number } }[];

beforeAll(async () => {
  [a, b] = await Promise.all([startServer(), startServer()]);
  [alice, admin, carol] = [new TestClient(a.url), new TestClient(b.url), new TestClient(b.url)];
  await alice.signup("alice");
  await admin.signup("boss");
  await carol.signup("carol");
  for (const [name, privacy] of [["open", "public"], ["second", "public"], ["secret", "private"]] as const) {
    const library = (await alice.post("/api/v1/libraries", { name: `${name} shelf`, privacy })).body;
    const bytes = randomBytes(30_000);
    await seedTracks(a, library.id, [{ tags: { TITLE: `${name} song`, ARTIST: "Alice Band", ALBUM: `${name} album`, TRACKNUMBER: "1" }, data: bytes }]);
    shelves[name] = { id: library.id, bytes };
  }
  const pool = b.db.pool;
  pod = await startFakeFunkwhalePod({
    publicKeyOf: async (keyId) =>
      (await pool.query("SELECT rsa_public_jwk FROM actor WHERE fid = $1 AND is_local", [actorOfKeyId(keyId)])).rows[0]?.rsa_public_jwk ?? null,
  });
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close(), pod?.close()]);
});

describe("the index of public libraries", () => {
  it("is named by NodeInfo and lists the public libraries only, as Library documents", async () => {
    const nodeInfo = await (await fetch(`${a.url}/nodeinfo/2.0`)).json();
    expect(nodeInfo.metadata.endpoints.libraries).toBe(`${a.url}/federation/index/libraries`);
    const root = await (await fetch(nodeInfo.metadata.endpoints.libraries)).json();
    expect(root).toMatchObject({ type: "Collection", totalItems: 2, first: `${a.url}/federation/index/libraries?page=1` });
    const page = await (await fetch(root.first)).json();
    expect(page).toMatchObject({ type: "CollectionPage", partOf: root.id });
    expect(page.items.map((l: { name: string }) => l.name)).toEqual(["open shelf", "second shelf"]);
    expect(page.items[0]).toMatchObject({ type: "Library", id: `${a.url}/federation/libraries/${shelves.open.id}`, audience: PUBLIC });
    expect((await fetch(`${a.url}/federation/index/libraries?page=x`)).status).toBe(400);
  });
});

describe("following an instance", () => {
  it("is for administrators only, and refuses names that are no other server", async () => {
    expect((await carol.post("/api/v1/admin/instance-follows", { domain: hostOf(a) })).status).toBe(403);
    expect((await carol.get("/api/v1/admin/instance-follows")).status).toBe(403);
    expect((await new TestClient(b.url).get("/api/v1/admin/instance-follows")).status).toBe(401);
    for (const domain of ["not a server!", hostOf(b), `http://${hostOf(b)}/`]) {
      const res = await admin.post("/api/v1/admin/instance-follows", { domain });
      expect([domain, res.status, res.body.error?.code]).toEqual([domain, 400, expect.any(String)]);
    }
    expect((await admin.post("/api/v1/admin/instance-follows", { domain: hostOf(a), extra: 1 })).status).toBe(400);
    expect(await instanceFollows()).toEqual([]);
  });

  it("follows every public library the other server lists, from the instance actor; everyone here sees them once scanned", async () => {
    const res = await admin.post("/api/v1/admin/instance-follows", { domain: a.url });
    expect(res.status).toBe(201);
    expect(res.body.domain).toBe(hostOf(a));
    expect(res.body.followed.map((f: { library: { name: string } }) => f.library.name).sort()).toEqual(["open shelf", "second shelf"]);
    await settled();
    // On A, the follower is B's instance actor, accepted (public libraries).
    const followers = (await alice.get(`/api/v1/libraries/${shelves.open.id}/followers`)).body.items;
    expect(followers).toMatchObject([{ state: "accepted", actor: { fid: `${b.url}/actors/instance` } }]);

    await waitUntil(async () => (await titles(carol)).length === 2 || undefined, { what: "the scans", timeout: 30_000 });
    expect(await titles(carol)).toEqual(["open song", "second song"]);
    expect(await titles(admin)).toEqual(["open song", "second song"]);
    expect((await instanceFollows()).map((f) => [f.library.name, f.state, f.domain, f.library.tracks])).toEqual([
      ["open shelf", "accepted", hostOf(a), 1],
      ["second shelf", "accepted", hostOf(a), 1],
    ]);
    // Carol plays one: A's bytes, fetched by B.
    const track = ((await carol.get("/api/v1/tracks")).body.items as { id: string; title: string }[]).find((t) => t.title === "open song")!;
    const stream = await fetch(`${b.url}/api/v1/tracks/${track.id}/stream`, { headers: { cookie: carol.cookie! } });
    expect(stream.status).toBe(200);
    expect(Buffer.from(await stream.arrayBuffer()).equals(shelves.open.bytes)).toBe(true);
  });

  it("stops one follow: Undo reaches A, and its music leaves B", async () => {
    const open = (await instanceFollows()).find((f) => f.library.name === "open shelf")!;
    expect((await carol.request("DELETE", `/api/v1/admin/instance-follows/${open.id}`)).status).toBe(403);
    expect((await admin.request("DELETE", `/api/v1/admin/instance-follows/${open.id}`)).status).toBe(204);
    expect((await admin.request("DELETE", `/api/v1/admin/instance-follows/${open.id}`)).status).toBe(404);
    expect((await admin.request("DELETE", `/api/v1/admin/instance-follows/${randomUUID()}`)).status).toBe(404);
    await settled();
    expect((await alice.get(`/api/v1/libraries/${shelves.open.id}/followers`)).body.items).toEqual([]);
    expect(await titles(carol)).toEqual(["second song"]);
  });

  it("stops every follow of a server at once", async () => {
    const res = await admin.request("DELETE", `/api/v1/admin/instance-follows/domains/${encodeURIComponent(hostOf(a))}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ stopped: 1 });
    await settled();
    expect(await instanceFollows()).toEqual([]);
    expect(await titles(carol)).toEqual([]);
    expect((await alice.get(`/api/v1/libraries/${shelves.second.id}/followers`)).body.items).toEqual([]);
  });
});

describe("following a Funkwhale pod", () => {
  it("finds its public libraries in its index; after its Accept everyone here sees the scanned tracks, and plays them", async () => {
    const bytes = randomBytes(20_000);
    pod.addAudio({ title: "Pod Song", artist: "Bob Band", album: "Pod Album", duration: 200, bytes });
    // The pod serves pages and audio only to the actor it accepted: B's instance actor, not carol's.
    pod.followersOnly = true;
    expect((await admin.post("/api/v1/admin/instance-follows", { domain: new URL(pod.origin).host })).body).toMatchObject({ followed: [] });

    pod.document(pod.libraryFid)!.audience = PUBLIC;
    const res = await admin.post("/api/v1/admin/instance-follows", { domain: new URL(pod.origin).host });
    expect(res.status).toBe(201);
    expect(res.body.followed).toMatchObject([{ state: "pending", library: { fid: pod.libraryFid } }]);
    const instance = `${b.url}/actors/instance`;
    const delivery = await waitUntil(() => pod.inbox.find((d) => d.activity.type === "Follow" && d.activity.actor === instance), { what: "the Follow" });
    expect(delivery.activity).toMatchObject({ object: pod.libraryFid });
    expect([delivery.activity.to].flat()).toContain(pod.actorId("bob"));

    pod.approved.add(instance);
    const follow = { type: "Follow", id: `${instance}#follows/${randomUUID()}`, actor: instance, object: pod.libraryFid };
    const accept = { "@context": FUNKWHALE_CONTEXT, type: "Accept", id: `${follow.id}/accept`, actor: pod.actorId("bob"), object: follow, to: [instance] };
    expect((await pod.post(`${b.url}/inbox`, accept, pod.key("bob"))).status).toBeLessThan(300);
    await waitUntil(async () => (await titles(carol)).includes("Pod Song") || undefined, { what: "the pod's scan" });
    // The scan's requests were signed as the instance actor (the pod verified them).
    expect(pod.gets).toContain(`${new URL(pod.libraryFid).pathname}?page=1`);
    const track = ((await carol.get("/api/v1/tracks")).body.items as { id: string; title: string }[]).find((t) => t.title === "Pod Song")!;
    const stream = await fetch(`${b.url}/api/v1/tracks/${track.id}/stream`, { headers: { cookie: carol.cookie! } });
    expect(stream.status).toBe(200);
    expect(Buffer.from(await stream.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it("applies its live Create(Audio) to the instance-followed library", async () => {
    const audio = pod.addAudio({ title: "Pod Live", artist: "Bob Band", album: "Pod Album", duration: 180 });
    const create = {
      "@context": FUNKWHALE_CONTEXT,
      type: "Create",
      actor: pod.actorId("bob"),
      to: [`${pod.libraryFid}/followers`],
      object: { "@context": FUNKWHALE_CONTEXT, ...audio },
    };
    expect((await pod.post(`${b.url}/inbox`, create, pod.key("bob"))).status).toBe(202);
    await waitUntil(async () => (await titles(carol)).includes("Pod Live") || undefined, { what: "the Create" });
  });
});
