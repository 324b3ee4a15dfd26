import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actorOfKeyId } from "../../core/fediverse/http-signatures.ts";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { type FakeFunkwhalePod, FUNKWHALE_CONTEXT, startFakeFunkwhalePod } from "../helpers/fake-funkwhale-pod.ts";
import { sleep, waitUntil } from "../helpers/wait.ts";

// Funkwhale 1.4's raw-JSON library activities (funkwhale-federation.md §3.5, §8 items 2-4), which Fedify's
// inbox would drop, reach live sync: taken before Fedify, signature checked here, applied by a job that
// reads each object again from the pod signed as our follower.

let app: TestApp;
let pod: FakeFunkwhalePod;
let alice: TestClient;
let libraryId: string;
let inbox: string;

const followers = () => `${pod.libraryFid}/followers`;
/** Funkwhale's Create(Audio) of a library upload: no activity id, the full Audio embedded. */
const create = (audio: Record<string, unknown>, actor = pod.actorId("bob")) => ({
  "@context": FUNKWHALE_CONTEXT,
  type: "Create",
  actor,
  to: [followers()],
  object: { "@context": FUNKWHALE_CONTEXT, ...audio },
});
const uploadFids = async () =>
  (await app.db.pool.query("SELECT fid FROM upload WHERE library_id = $1 ORDER BY fid", [libraryId])).rows.map((r) => r.fid as string);
const pendingJobs = async () =>
  (await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'funkwhale_activity'")).rows[0].n as number;
const jobsDone = () => waitUntil(async () => (await pendingJobs()) === 0, { what: "the funkwhale_activity jobs" });

beforeAll(async () => {
  app = await startTestApp({ worker: true, env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
  const pool = app.db.pool;
  alice = new TestClient(app.url);
  await alice.signup("alice");
  pod = await startFakeFunkwhalePod({
    publicKeyOf: async (keyId) =>
      (await pool.query("SELECT rsa_public_jwk FROM actor WHERE fid = $1 AND is_local", [actorOfKeyId(keyId)])).rows[0]?.rsa_public_jwk ?? null,
  });
  // Alice follows Bob's library on the pod, and Bob accepted.
  const bob = await app.deps.remoteActors.resolve(pod.actorId("bob"));
  libraryId = randomUUID();
  await pool.query("INSERT INTO library (id, actor_id, fid, name) VALUES ($1, $2, $3, 'Bob''s music')", [libraryId, bob.id, pod.libraryFid]);
  const { rows } = await pool.query("SELECT a.id FROM actor a JOIN app_user u ON u.actor_id = a.id WHERE u.username = 'alice'");
  await pool.query("INSERT INTO follow (id, fid, follower_id, library_id, state) VALUES ($1, $2, $3, $4, 'accepted')", [
    randomUUID(),
    `${TEST_ORIGIN}/actors/alice#follows/${randomUUID()}`,
    rows[0].id,
    libraryId,
  ]);
  inbox = `${app.url}/inbox`;
});
afterAll(async () => {
  await app?.close();
  await pod?.close();
});

describe("a Funkwhale pod's library activities", () => {
  let first: Record<string, unknown>;

  it("Create(Audio) without an id, with an integer duration, adds the track", async () => {
    first = pod.addAudio({ title: "Integer Seconds", artist: "Bob Band", album: "Old Shapes", duration: 228 });
    const res = await pod.post(inbox, create(first), pod.key("bob"));
    expect(res.status).toBe(202);
    await waitUntil(async () => (await uploadFids()).includes(first.id as string), { what: "the upload" });
    const { rows } = await app.db.pool.query("SELECT u.duration_ms, t.title FROM upload u JOIN track t ON t.id = u.track_id WHERE u.fid = $1", [first.id]);
    expect(rows[0]).toMatchObject({ duration_ms: 228_000, title: "Integer Seconds" });
    expect((await alice.get("/api/v1/tracks")).body.items.map((t: { title: string }) => t.title)).toEqual(["Integer Seconds"]);
    // Read again from the pod, signed as alice (the pod checks it).
    expect(pod.gets).toContain(new URL(first.id as string).pathname);
  });

  it("the same payload again (its keys in any order) changes nothing and reads nothing", async () => {
    const reads = pod.gets.length;
    const res = await pod.post(inbox, create(first), pod.key("bob"));
    expect(res.status).toBe(202);
    expect(await pendingJobs()).toBe(0);
    // Re-serialized with its keys in another order (a retry): the same activity.
    const reordered = Object.fromEntries(Object.entries(create(first)).reverse());
    expect((await pod.post(inbox, reordered, pod.key("bob"))).status).toBe(202);
    expect(await pendingJobs()).toBe(0);
    await sleep(500);
    expect(pod.gets.length).toBe(reads);
    expect(await uploadFids()).toEqual([first.id]);
  });

  it("a Create from an actor who does not speak for the library is ignored", async () => {
    const other = pod.addAudio({ title: "Not Yours", artist: "Mallory", album: "Elsewhere" });
    const res = await pod.post(inbox, create(other, pod.actorId("mallory")), pod.key("mallory"));
    expect(res.status).toBe(202);
    await jobsDone();
    expect(await uploadFids()).toEqual([first.id]);
  });

  it("a Create of an Audio the pod no longer has ends its job without retries", async () => {
    const gone = pod.addAudio({ title: "Gone Already", artist: "Bob Band", album: "Old Shapes" });
    pod.removeAudio(gone.id as string);
    expect((await pod.post(inbox, create(gone), pod.key("bob"))).status).toBe(202);
    await jobsDone();
    expect(await uploadFids()).toEqual([first.id]);
  });

  it("refuses a wrong signer, an unsigned POST and a tampered body with 401", async () => {
    const audio = pod.addAudio({ title: "Forged", artist: "Bob Band", album: "Old Shapes" });
    const activity = create(audio);
    const forged = await pod.post(inbox, activity, pod.key("mallory"));
    expect(forged.status).toBe(401);
    expect(JSON.stringify(await forged.json())).toContain("not its signer");
    const unsigned = await fetch(inbox, { method: "POST", headers: { "content-type": "application/activity+json" }, body: JSON.stringify(activity) });
    expect(unsigned.status).toBe(401);
    const tampered = await pod.post(inbox, activity, pod.key("bob"), { tamper: (body) => body.replace("Forged", "Tampered") });
    expect(tampered.status).toBe(401);
    expect(JSON.stringify(await tampered.json())).toContain("Digest");
    expect(await pendingJobs()).toBe(0);
    expect(await uploadFids()).toEqual([first.id]);
  });

  it("Update(Track) from the service actor the pod's NodeInfo names renames it; from anyone else (another Service actor too) it is ignored", async () => {
    const serviceOfPod = async () =>
      (await app.db.pool.query("SELECT a.fid FROM domain d JOIN actor a ON a.id = d.service_actor_id WHERE d.name = $1", [new URL(pod.origin).host])).rows[0]?.fid;
    await waitUntil(serviceOfPod, { what: "the pod's service actor, from its NodeInfo" });
    expect(await serviceOfPod()).toBe(pod.actorId("service"));
    const track = pod.document((first.track as { id: string }).id)!;
    const update = (actor: string) => ({
      "@context": FUNKWHALE_CONTEXT,
      type: "Update",
      actor,
      to: ["https://www.w3.org/ns/activitystreams#Public"],
      object: { "@context": FUNKWHALE_CONTEXT, ...track },
    });
    const title = async () => (await app.db.pool.query("SELECT title FROM track WHERE fid = $1", [track.id])).rows[0].title as string;
    track.name = "Mallory Was Here";
    expect((await pod.post(inbox, update(pod.actorId("mallory")), pod.key("mallory"))).status).toBe(202);
    await jobsDone();
    expect(await title()).toBe("Integer Seconds");
    track.name = "A Bot Was Here";
    expect((await pod.post(inbox, update(pod.actorId("radio")), pod.key("radio"))).status).toBe(202);
    await jobsDone();
    expect(await title()).toBe("Integer Seconds");
    track.name = "Integer Seconds (Remastered)";
    expect((await pod.post(inbox, update(pod.actorId("service")), pod.key("service"))).status).toBe(202);
    await waitUntil(async () => (await title()) === "Integer Seconds (Remastered)", { what: "the rename" });
  });

  it("Delete(Audio) with a list of ids removes them", async () => {
    const more = [pod.addAudio({ title: "Two", artist: "Bob Band", album: "Old Shapes" }), pod.addAudio({ title: "Three", artist: "Bob Band", album: "Old Shapes" })];
    for (const audio of more) expect((await pod.post(inbox, create(audio), pod.key("bob"))).status).toBe(202);
    await waitUntil(async () => (await uploadFids()).length === 3, { what: "three uploads" });
    const gone = [first.id as string, more[0]!.id as string];
    for (const id of gone) pod.removeAudio(id);
    const res = await pod.post(inbox, {
      "@context": FUNKWHALE_CONTEXT,
      type: "Delete",
      actor: pod.actorId("bob"),
      to: [followers()],
      object: { type: "Audio", id: gone },
    }, pod.key("bob"));
    expect(res.status).toBe(202);
    await waitUntil(async () => (await uploadFids()).length === 1, { what: "the deletion" });
    expect(await uploadFids()).toEqual([more[1]!.id]);
  });

  it("Update(Library) without an id renames it, read again from the pod", async () => {
    const document = pod.document(pod.libraryFid)!;
    document.name = "Bob's better music";
    document.summary = "Now with more bass";
    const res = await pod.post(inbox, {
      "@context": FUNKWHALE_CONTEXT,
      type: "Update",
      actor: pod.actorId("bob"),
      to: [followers()],
      object: { "@context": FUNKWHALE_CONTEXT, ...document },
    }, pod.key("bob"));
    expect(res.status).toBe(202);
    await waitUntil(async () => (await app.db.pool.query("SELECT name FROM library WHERE id = $1", [libraryId])).rows[0].name === "Bob's better music", {
      what: "the rename",
    });
    expect((await app.db.pool.query("SELECT description FROM library WHERE id = $1", [libraryId])).rows[0].description).toBe("Now with more bass");
  });

  it("Delete(Library) drops the library", async () => {
    const res = await pod.post(inbox, {
      "@context": FUNKWHALE_CONTEXT,
      type: "Delete",
      actor: pod.actorId("bob"),
      to: [followers()],
      object: { type: "Library", id: pod.libraryFid },
    }, pod.key("bob"));
    expect(res.status).toBe(202);
    await waitUntil(async () => (await app.db.pool.query("SELECT 1 FROM library WHERE id = $1", [libraryId])).rowCount === 0, { what: "the library to go" });
    expect(await uploadFids()).toEqual([]);
    expect((await alice.get("/api/v1/tracks")).body.items).toEqual([]);
  });
});
