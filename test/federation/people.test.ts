import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Following } from "../../core/fediverse/follows.service.ts";
import { actorOfKeyId } from "../../core/fediverse/http-signatures.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { freePort } from "../helpers/ports.ts";
import { type FakeFunkwhalePod, startFakeFunkwhalePod } from "../helpers/fake-funkwhale-pod.ts";
import { startRemoteActorServer, type RemoteActorServer } from "../helpers/remote-actor-server.ts";
import { waitUntil } from "../helpers/wait.ts";

// People, not just collections: Alice on server A shares libraries and playlists; her profile lists
// what the viewer may see, her Person actor links the public ones, and Bob on server B looks her up
// by handle and follows her public libraries in one step. Both servers real, over loopback.

const AP = { accept: "application/activity+json" };

let a: TestApp;
let b: TestApp;
let alice: TestClient;
let carol: TestClient;
let bob: TestClient;
let other: RemoteActorServer;
let pod: FakeFunkwhalePod;
const shelf: Record<string, { id: string; actorId: string }> = {};
const lists: Record<string, { id: string }> = {};

async function startServer(): Promise<TestApp> {
  const port = await freePort();
  return startTestApp({ worker: true, env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
}

beforeAll(async () => {
  [a, b] = await Promise.all([startServer(), startServer()]);
  other = await startRemoteActorServer();
  pod = await startFakeFunkwhalePod({
    publicKeyOf: async (keyId) =>
      (await b.db.pool.query("SELECT rsa_public_jwk FROM actor WHERE fid = $1 AND is_local", [actorOfKeyId(keyId)])).rows[0]?.rsa_public_jwk ?? null,
  });
  [alice, carol, bob] = [new TestClient(a.url), new TestClient(a.url), new TestClient(b.url)];
  await Promise.all([alice.signup("alice"), carol.signup("carol"), bob.signup("bob")]);
  for (const [name, privacy] of [["Open shelf", "public"], ["Club shelf", "instance"], ["Secret shelf", "private"]] as const) {
    shelf[privacy] = (await alice.post("/api/v1/libraries", { name, privacy })).body;
  }
  for (const [name, privacy] of [["Road mix", "public"], ["Diary mix", "private"]] as const) {
    lists[privacy] = (await alice.post("/api/v1/playlists", { name, privacy })).body;
  }
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close(), other?.close(), pod?.close()]);
});

const names = (items: { name: string }[]) => items.map((i) => i.name).sort();

describe("our people's profiles", () => {
  it("list the libraries and playlists other people here may see, never a private one", async () => {
    const res = await carol.get(`/api/v1/people/alice`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ username: "alice", handle: `@alice@${new URL(a.url).host}`, actorFid: `${a.url}/actors/alice` });
    expect(names(res.body.libraries)).toEqual(["Club shelf", "Open shelf"]);
    expect(names(res.body.playlists)).toEqual(["Road mix"]);
    expect(res.body.libraries[0]).toMatchObject({ id: expect.any(String), privacy: expect.any(String), count: 0 });
  });

  it("answers 404 for nobody (and for a library's actor name), 401 without a session", async () => {
    expect((await carol.get("/api/v1/people/nobody")).status).toBe(404);
    const libraryActor = new URL(shelf.public!.actorId).pathname.split("/").pop()!;
    const res = await carol.get(`/api/v1/people/${libraryActor}`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: expect.anything() });
    expect((await new TestClient(a.url).get("/api/v1/people/alice")).status).toBe(401);
  });

  it("link the public ones from the Person actor (streams), for other servers", async () => {
    const actor = (await fetch(`${a.url}/actors/alice`, { headers: AP }).then((r) => r.json())) as { streams: string | string[] };
    expect([actor.streams].flat().sort()).toEqual(
      [`${a.url}/federation/libraries/${shelf.public!.id}`, `${a.url}/federation/playlists/${lists.public!.id}`].sort(),
    );
  });
});

describe("a person on another server", () => {
  const handle = () => `@alice@${new URL(a.url).host}`;

  it("is looked up by handle: profile and public libraries, each with the viewer's follow", async () => {
    const res = await bob.get(`/api/v1/federation/people/lookup?q=${encodeURIComponent(handle())}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ fid: `${a.url}/actors/alice`, handle: handle(), name: "alice" });
    expect(res.body.libraries).toHaveLength(1);
    expect(res.body.libraries[0]).toMatchObject({
      fid: `${a.url}/federation/libraries/${shelf.public!.id}`, name: "Open shelf", privacy: "public", follow: null,
    });
    expect(Array.isArray(res.body.playlists)).toBe(true);
    // The same by the actor's URL.
    const byUrl = await bob.get(`/api/v1/federation/people/lookup?q=${encodeURIComponent(`${a.url}/actors/alice`)}`);
    expect(byUrl.body.fid).toBe(res.body.fid);
  });

  it("is followed in one step: a follow of each public library, accepted by its server; again, nothing new", async () => {
    const res = await bob.post("/api/v1/federation/people/follows", { target: handle() });
    expect(res.status).toBe(200);
    expect(res.body.follows).toHaveLength(1);
    expect(res.body.follows[0].library).toMatchObject({ fid: `${a.url}/federation/libraries/${shelf.public!.id}` });
    expect(res.body.profile.libraries[0].follow).toMatchObject({ id: res.body.follows[0].id });
    await waitUntil(async () => {
      const items = (await bob.get<{ items: Following[] }>("/api/v1/federation/follows")).body.items;
      return items.find((f) => f.library.name === "Open shelf" && f.state === "accepted");
    }, { what: "the accepted follow" });
    const again = await bob.post("/api/v1/federation/people/follows", { target: handle() });
    expect(again.body.follows).toEqual([]);
    expect(again.body.profile.libraries[0].follow).toMatchObject({ state: "accepted" });
  });

  it("answers 400 for what names no person: garbage, a library's actor, one of our own, someone unknown", async () => {
    const lookup = (q: string) => bob.get(`/api/v1/federation/people/lookup?q=${encodeURIComponent(q)}`);
    expect((await lookup("not a handle")).body).toMatchObject({ error: { code: "invalid_target" } });
    const libraryActor = new URL(shelf.public!.actorId).pathname.split("/").pop()!;
    const notPerson = await lookup(`@${libraryActor}@${new URL(a.url).host}`);
    expect(notPerson.status).toBe(400);
    expect(notPerson.body).toMatchObject({ error: { code: "not_a_person" } });
    expect((await lookup(`@bob@${new URL(b.url).host}`)).body).toMatchObject({ error: { code: "local_person" } });
    expect((await lookup(`@nobody@${new URL(a.url).host}`)).status).toBe(400);
    expect((await bob.post("/api/v1/federation/people/follows", { target: "x", extra: 1 })).status).toBe(400);
  });

  it("on Funkwhale lists the public libraries its server's index attributes to them", async () => {
    const lookup = () => bob.get(`/api/v1/federation/people/lookup?q=${encodeURIComponent(pod.actorId("bob"))}`);
    // Private: not in the pod's index.
    expect((await lookup()).body).toMatchObject({ fid: pod.actorId("bob"), libraries: [] });
    pod.document(pod.libraryFid)!.audience = "https://www.w3.org/ns/activitystreams#Public";
    const res = await lookup();
    expect(res.status).toBe(200);
    expect(res.body.libraries).toEqual([expect.objectContaining({ fid: pod.libraryFid, name: "Bob's music", privacy: "public" })]);
    // Not someone else's.
    expect((await bob.get(`/api/v1/federation/people/lookup?q=${encodeURIComponent(pod.actorId("carl"))}`)).body.libraries).toEqual([]);
  });

  it("without streams or index (Mastodon) shows the profile and lists nothing", async () => {
    const res = await bob.get(`/api/v1/federation/people/lookup?q=${encodeURIComponent(other.actorId("dana"))}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ fid: other.actorId("dana"), libraries: [], playlists: [] });
  });

  it("is refused on a server an admin blocked, before any request to it", async () => {
    const domain = `/api/v1/admin/domains/${encodeURIComponent(new URL(other.origin).host)}`;
    expect((await bob.request("PUT", domain, { json: { blocked: true } })).status).toBe(200); // bob is b's admin
    const reads = other.nodeInfoReads();
    const res = await bob.get(`/api/v1/federation/people/lookup?q=${encodeURIComponent(other.actorId("dana"))}`);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("domain_blocked");
    expect((await bob.post("/api/v1/federation/people/follows", { target: other.actorId("dana") })).status).toBe(403);
    expect(other.nodeInfoReads()).toBe(reads);
    expect((await bob.request("PUT", domain, { json: { blocked: false } })).status).toBe(200);
  });
});
