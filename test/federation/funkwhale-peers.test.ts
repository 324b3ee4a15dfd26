import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actorOfKeyId } from "../../core/fediverse/http-signatures.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { type FakeFunkwhalePod, FUNKWHALE_CONTEXT, startFakeFunkwhalePod } from "../helpers/fake-funkwhale-pod.ts";
import { freePort } from "../helpers/ports.ts";
import { waitUntil } from "../helpers/wait.ts";
import { tokenParams } from "../subsonic/helpers.ts";

// Funkwhale pods as peers, both ways (issue 17 point 2), for a 1.4 and a 2.0 pod. The pod's requests
// and activities are built from funkwhale-federation.md (§2.3 Follow/Accept, §2.4 scan, §4 media) and
// Funkwhale's serializers, never from our own output: (a) its user follows one of our libraries with
// the Follow Funkwhale sends, gets the Accept it expects, walks the pages with signed GETs whose query
// is signed, downloads the audio in one plain signed GET, and unfollows with the Undo it sends; (b) our person follows its library, it
// answers with an Accept whose ids it rebuilt, we scan its pages, play a track over REST and Subsonic,
// and apply its Create and Delete(Audio).

type Json = Record<string, any>;
const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

describe.each([
  { version: "1.4.0", durationOf: (seconds: number) => seconds },
  { version: "2.0.0-alpha.1", durationOf: (seconds: number) => `PT${Math.floor(seconds / 60)}M${seconds % 60}S` },
])("a Funkwhale $version pod", ({ version, durationOf }) => {
  let app: TestApp;
  let pod: FakeFunkwhalePod;
  let alice: TestClient;
  let aliceFid: string;
  const bytes = { ours: randomBytes(48_000), theirs: randomBytes(36_000) };
  let open: { id: string; actorId: string };
  let closed: { id: string; actorId: string };

  beforeAll(async () => {
    const port = await freePort();
    app = await startTestApp({
      worker: true,
      env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" },
    });
    const pool = app.db.pool;
    pod = await startFakeFunkwhalePod({
      version,
      publicKeyOf: async (keyId) =>
        (await pool.query("SELECT rsa_public_jwk FROM actor WHERE fid = $1 AND is_local", [actorOfKeyId(keyId)])).rows[0]?.rsa_public_jwk ?? null,
    });
    alice = new TestClient(app.url);
    await alice.signup("alice");
    aliceFid = (await pool.query("SELECT a.fid FROM actor a JOIN app_user u ON u.actor_id = a.id WHERE u.username = 'alice'")).rows[0].fid;
    open = (await alice.post("/api/v1/libraries", { name: "Open shelf", privacy: "public" })).body;
    closed = (await alice.post("/api/v1/libraries", { name: "Friends only", privacy: "private", approveFollows: true })).body;
    for (const [library, title] of [[open, "Open Song"], [closed, "Closed Song"]] as const) {
      const tags = { TITLE: title, ARTIST: "Alice Band", ALBUMARTIST: "Alice Band", ALBUM: `${title} Album`, TRACKNUMBER: "1" };
      await seedTracks(app, library.id, [{ tags, data: bytes.ours, seconds: 228 }]);
    }
  });
  afterAll(async () => {
    await app?.close();
    await pod?.close();
  });

  const libraryFid = (library: { id: string }) => `${app.url}/federation/libraries/${library.id}`;
  const json = async (res: Response) => (await res.json()) as Json;
  /** The activities of `type` the pod's inboxes took. */
  const received = (type: string) => pod.inbox.filter((d) => d.activity.type === type);

  /** Funkwhale's Follow (routes.outbox_follow, FollowSerializer): its own id shape, the owner in `to`. */
  async function podFollows(library: { id: string }) {
    const document = await json(await pod.get(libraryFid(library), pod.key("bob")));
    const owner = await json(await fetch(document.attributedTo, { headers: { accept: "application/activity+json" } }));
    const follow = {
      "@context": FUNKWHALE_CONTEXT,
      type: "Follow",
      id: `${pod.actorId("bob")}#follows/${randomUUID()}`,
      actor: pod.actorId("bob"),
      object: document.id,
      to: [document.attributedTo],
    };
    const res = await pod.post(owner.endpoints.sharedInbox, follow, pod.key("bob"));
    expect(res.status).toBeLessThan(300);
    return { document, follow };
  }

  /** The Accept Funkwhale waits for: sent by the library's actor, the Follow embedded, matched by actor and object. */
  async function acceptFor(document: Json) {
    const delivery = await waitUntil(() => received("Accept").find((d) => (d.activity.object as Json | undefined)?.object === document.id), { what: "our Accept" });
    expect(actorOfKeyId(delivery.keyId)).toBe(document.attributedTo);
    expect(delivery.activity).toMatchObject({ actor: document.attributedTo, object: { type: "Follow", actor: pod.actorId("bob"), object: document.id } });
    expect([delivery.activity.to].flat()).toContain(pod.actorId("bob"));
    return delivery.activity;
  }

  /** Funkwhale's scan (§2.4): the root, then `first`, then each `next`, signed as the follower; the Audio items. */
  async function podScans(document: Json): Promise<Json[]> {
    const items: Json[] = [];
    for (let url: string | undefined = document.first; url; ) {
      const res = await pod.get(url, pod.key("bob"));
      expect([url, res.status]).toEqual([url, 200]);
      const page = await json(res);
      expect(page).toMatchObject({ type: "CollectionPage", partOf: document.id });
      items.push(...page.items);
      url = page.next;
    }
    return items;
  }

  describe("(a) follows and scans one of our libraries", () => {
    it("a public library: accepted at once, its pages read in the Audio shape this version reads, its audio downloaded whole", async () => {
      const { document } = await podFollows(open);
      expect(document).toMatchObject({ type: "Library", audience: PUBLIC, first: `${document.id}?page=1` });
      await acceptFor(document);
      // The duration form follows the pod's NodeInfo, read once its first actor was stored.
      await waitUntil(() => app.deps.remoteActors.domains.softwareOf(new URL(pod.origin).host), { what: "the pod's NodeInfo" });
      const [audio, ...rest] = await podScans(document);
      expect(rest).toEqual([]);
      expect(audio).toMatchObject({ type: "Audio", library: document.id, duration: durationOf(228), to: PUBLIC, track: { name: "Open Song" } });
      // 1.4 reads `artists`, 2.0 requires `artist_credit`: both are there, on the track and its album.
      expect(audio!.track.artists[0]).toMatchObject({ type: "Artist", name: "Alice Band" });
      expect(audio!.track.artist_credit[0]).toMatchObject({ type: "ArtistCredit", artist: { name: "Alice Band" } });
      expect(audio!.track.album.artist_credit[0].artist.name).toBe("Alice Band");
      expect(audio!.url[0]).toMatchObject({ type: "Link", mediaType: "audio/mpeg" });
      const media = await pod.get(audio!.url[0].href, pod.key("bob"), { media: true });
      expect(media.status).toBe(200);
      expect(Buffer.from(await media.arrayBuffer()).equals(bytes.ours)).toBe(true);
    });

    let closedFollow: { document: Json; follow: Json };

    it("a private library: nothing until its owner approves, then the Accept, and its pages answer", async () => {
      closedFollow = await podFollows(closed);
      const { document } = closedFollow;
      expect(document.audience).toBe("");
      const pending = await waitUntil(async () => (await alice.get(`/api/v1/libraries/${closed.id}/followers`)).body.items[0], { what: "the request" });
      expect(pending).toMatchObject({ state: "pending", actor: { fid: pod.actorId("bob") } });
      expect(received("Accept").filter((d) => (d.activity.object as Json | undefined)?.object === document.id)).toEqual([]);
      expect((await pod.get(document.first, pod.key("bob"))).status).toBe(404);

      expect((await alice.post(`/api/v1/libraries/${closed.id}/followers/${pending.id}/approve`, {})).status).toBe(200);
      await acceptFor(document);
      const [audio] = await podScans(document);
      expect(audio).toMatchObject({ to: "", duration: durationOf(228), track: { name: "Closed Song" } });
      const media = await pod.get(audio!.url[0].href, pod.key("bob"), { media: true });
      expect(media.status).toBe(200);
      expect(Buffer.from(await media.arrayBuffer()).equals(bytes.ours)).toBe(true);
    });

    it("Undo with the Follow embedded (Funkwhale's unfollow) ends the follow: the pages close again", async () => {
      const { document, follow } = closedFollow;
      const undo = { "@context": FUNKWHALE_CONTEXT, type: "Undo", id: `${follow.id}/undo`, actor: pod.actorId("bob"), object: follow, to: [document.attributedTo] };
      expect((await pod.post(`${app.url}/inbox`, undo, pod.key("bob"))).status).toBeLessThan(300);
      await waitUntil(async () => (await alice.get(`/api/v1/libraries/${closed.id}/followers`)).body.items.length === 0 || undefined, { what: "the Undo" });
      expect((await pod.get(document.first, pod.key("bob"))).status).toBe(404);
    });
  });

  describe("(b) is followed, scanned and played from here", () => {
    let trackId: string;
    const titles = async () =>
      ((await alice.get("/api/v1/tracks")).body.items as { title: string }[]).map((t) => t.title).filter((t) => t.startsWith("Pod")).sort();

    it("our Follow reaches the pod in its shape; its Accept, with ids it rebuilt, starts a scan of every page", async () => {
      pod.followersOnly = true;
      pod.addAudio({ title: "Pod One", artist: "Bob Band", album: "Pod Album", duration: 200, bytes: bytes.theirs });
      pod.addAudio({ title: "Pod Two", artist: "Bob Band", album: "Pod Album", duration: 201 });
      pod.addAudio({ title: "Pod Three", artist: "Bob Band", album: "Pod Album", duration: 202 });
      const followed = await alice.post("/api/v1/federation/follows", { target: pod.libraryFid });
      expect(followed.status).toBe(201);
      expect(followed.body).toMatchObject({ state: "pending", library: { fid: pod.libraryFid } });

      const delivery = await waitUntil(() => received("Follow").find((d) => d.activity.actor === aliceFid), { what: "our Follow" });
      expect(actorOfKeyId(delivery.keyId)).toBe(aliceFid);
      expect(delivery.activity).toMatchObject({ object: pod.libraryFid });
      expect([delivery.activity.to].flat()).toContain(pod.actorId("bob"));

      // Funkwhale approves, and rebuilds the ids under the follower's actor with its own uuid (§2.3).
      pod.approved.add(aliceFid);
      const follow = { type: "Follow", id: `${aliceFid}#follows/${randomUUID()}`, actor: aliceFid, object: pod.libraryFid };
      const accept = { "@context": FUNKWHALE_CONTEXT, type: "Accept", id: `${follow.id}/accept`, actor: pod.actorId("bob"), object: follow, to: [aliceFid] };
      expect((await pod.post(`${app.url}/inbox`, accept, pod.key("bob"))).status).toBeLessThan(300);

      await waitUntil(async () => (await titles()).length === 3 || undefined, { what: "the scan" });
      expect(await titles()).toEqual(["Pod One", "Pod Three", "Pod Two"]);
      // Two pages of two: each GET signed as alice, its query in the signature (the pod checks it).
      expect(pod.gets).toEqual(expect.arrayContaining([`${new URL(pod.libraryFid).pathname}?page=1`, `${new URL(pod.libraryFid).pathname}?page=2`]));
      const { rows } = await app.db.pool.query("SELECT u.duration_ms FROM upload u JOIN track t ON t.id = u.track_id WHERE t.title = 'Pod Two'");
      expect(rows[0].duration_ms).toBe(201_000);
      trackId = ((await alice.get("/api/v1/tracks")).body.items as { id: string; title: string }[]).find((t) => t.title === "Pod One")!.id;
    });

    it("plays a track over REST and Subsonic: the pod's bytes, fetched signed as alice", async () => {
      const viaRest = await fetch(`${app.url}/api/v1/tracks/${trackId}/stream`, { headers: { cookie: alice.cookie! } });
      expect(viaRest.status).toBe(200);
      expect(Buffer.from(await viaRest.arrayBuffer()).equals(bytes.theirs)).toBe(true);
      expect(pod.gets.some((path) => path.startsWith("/api/v1/listen/"))).toBe(true);
      const creds = (await alice.get("/api/v1/me/subsonic")).body;
      const viaSubsonic = await fetch(`${app.url}/rest/stream?${new URLSearchParams({ ...tokenParams(creds), id: trackId })}`);
      expect(viaSubsonic.status).toBe(200);
      expect(Buffer.from(await viaSubsonic.arrayBuffer()).equals(bytes.theirs)).toBe(true);
    });

    it("applies its Create(Audio) and Delete(Audio), which carry no ids", async () => {
      const audio = pod.addAudio({ title: "Pod Four", artist: "Bob Band", album: "Pod Album", duration: 203 });
      const followers = `${pod.libraryFid}/followers`;
      const create = { "@context": FUNKWHALE_CONTEXT, type: "Create", actor: pod.actorId("bob"), to: [followers], object: { "@context": FUNKWHALE_CONTEXT, ...audio } };
      expect((await pod.post(`${app.url}/inbox`, create, pod.key("bob"))).status).toBe(202);
      await waitUntil(async () => (await titles()).includes("Pod Four") || undefined, { what: "the Create" });

      pod.removeAudio(audio.id as string);
      const remove = { "@context": FUNKWHALE_CONTEXT, type: "Delete", actor: pod.actorId("bob"), to: [followers], object: { type: "Audio", id: [audio.id] } };
      expect((await pod.post(`${app.url}/inbox`, remove, pod.key("bob"))).status).toBe(202);
      await waitUntil(async () => !(await titles()).includes("Pod Four") || undefined, { what: "the Delete" });
      expect(await titles()).toEqual(["Pod One", "Pod Three", "Pod Two"]);
    });
  });
});
