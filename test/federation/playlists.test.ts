import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signatureHeaders } from "../../core/fediverse/http-signatures.ts";
import { enqueueScheduledPlaylistScans } from "../../core/fediverse/remote-playlists.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks, type SeededTrack } from "../helpers/factories.ts";
import { freePort } from "../helpers/ports.ts";
import { waitUntil } from "../helpers/wait.ts";
import { rest, tokenParams } from "../subsonic/helpers.ts";

// Followed playlists (issue 17, point 1) between two servers in one process, A and B, each with its worker:
// bob on B follows alice's playlist on A, whose tracks live in alice's PRIVATE library (the follow is the
// grant). Every activity and document really travels, signed, over loopback HTTP.

let a: TestApp;
let b: TestApp;
let alice: TestClient; // on A: owns the library and the playlists
let bob: TestClient; // on B: follows the playlist
let dave: TestClient; // on B: follows nothing
let tracks: SeededTrack[];
const bytes = [0, 1, 2].map((n) => Buffer.from(`ID3 track ${n} `.repeat(200 + n)));
let mix: { id: string; actorId: string };
let secret: { id: string; actorId: string };

async function startServer(): Promise<TestApp> {
  const port = await freePort();
  return startTestApp({
    worker: true,
    env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" },
  });
}

beforeAll(async () => {
  [a, b] = await Promise.all([startServer(), startServer()]);
  [alice, bob, dave] = [new TestClient(a.url), new TestClient(b.url), new TestClient(b.url)];
  await Promise.all([alice.signup("alice"), bob.signup("bob"), dave.signup("dave")]);
  const library = (await alice.post("/api/v1/libraries", { name: "Alice's own", privacy: "private" })).body;
  tracks = await seedTracks(a, library.id, ["One", "Two", "Three"].map((TITLE, n) => ({
    tags: { TITLE, ARTIST: "The Band", ALBUM: "Mixtape Sources", TRACKNUMBER: String(n + 1) },
    data: bytes[n],
  })));
  mix = (await alice.post("/api/v1/playlists", { name: "Road trip", description: "For the car", privacy: "public" })).body;
  await alice.post(`/api/v1/playlists/${mix.id}/items`, { trackIds: [tracks[1]!.trackId, tracks[0]!.trackId] });
  secret = (await alice.post("/api/v1/playlists", { name: "Diary", privacy: "private" })).body;
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

const jsonLd = { accept: "application/activity+json" };
const collectionOf = (id: string) => `${a.url}/federation/playlists/${id}`;
const sha = (data: Buffer | Uint8Array) => createHash("sha256").update(data).digest("hex");
const bobsPlaylists = async (client = bob) => (await client.get("/api/v1/playlists")).body.items as { id: string; name: string; readOnly: boolean; remoteId: string }[];
const titlesOn = async (client: TestClient, id: string) =>
  ((await client.get(`/api/v1/playlists/${id}`)).body.items as { title: string; trackId: string | null }[]).map((i) => i.title);

describe("a playlist's federated documents", () => {
  it("its actor links its Playlist collection, which lists PlaylistTrack items naming dereferenceable tracks", async () => {
    const actor = await (await fetch(mix.actorId, { headers: jsonLd })).json();
    expect(actor.streams ?? actor["as:streams"]).toContain(collectionOf(mix.id));

    const head = await (await fetch(collectionOf(mix.id), { headers: jsonLd })).json();
    expect(head).toMatchObject({
      type: "Playlist", id: collectionOf(mix.id), name: "Road trip", totalItems: 2, audience: "everyone",
      attributedTo: mix.actorId, library: `${collectionOf(mix.id)}/library`, first: `${collectionOf(mix.id)}?page=1`,
    });
    const page = await (await fetch(head.first, { headers: jsonLd })).json();
    expect(page).toMatchObject({ type: "CollectionPage", partOf: collectionOf(mix.id) });
    expect(page.items.map((i: { type: string; index: number; track: string }) => [i.type, i.index, i.track])).toEqual([
      ["PlaylistTrack", 0, `${a.url}/federation/tracks/${tracks[1]!.trackId}`],
      ["PlaylistTrack", 1, `${a.url}/federation/tracks/${tracks[0]!.trackId}`],
    ]);
  });

  it("a private playlist's actor and collection answer 404", async () => {
    expect((await fetch(secret.actorId, { headers: jsonLd })).status).toBe(404);
    expect((await fetch(collectionOf(secret.id), { headers: jsonLd })).status).toBe(404);
  });

  it("the items' audio, in a private library, is refused to anyone who does not follow the playlist", async () => {
    const res = await fetch(`${a.url}/federation/media/${tracks[0]!.uploadId}`);
    expect(res.status).toBe(404);
  });
});

describe("following a playlist from another server", () => {
  it("finds it by handle as a playlist, follows it and is accepted at once", async () => {
    const handle = `@${new URL(mix.actorId).pathname.split("/").pop()}@${new URL(a.url).host}`;
    const preview = await bob.get(`/api/v1/federation/lookup?q=${encodeURIComponent(handle)}`);
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ kind: "playlist", fid: collectionOf(mix.id), name: "Road trip", privacy: "public", follow: null });

    const followed = await bob.post("/api/v1/federation/follows", { target: handle });
    expect(followed.status).toBe(201);
    expect(followed.body).toMatchObject({ state: "pending", playlist: { fid: collectionOf(mix.id), name: "Road trip" } });
    await waitUntil(async () => (await bob.get(`/api/v1/federation/lookup?q=${encodeURIComponent(handle)}`)).body.follow?.state === "accepted" || undefined, {
      what: "the Accept on B",
    });
  });

  it("B reads it: bob lists it read-only with its items in order; dave sees nothing", async () => {
    const listed = await waitUntil(async () => (await bobsPlaylists()).find((p) => p.remoteId === collectionOf(mix.id)), { what: "the playlist on B" });
    expect(listed).toMatchObject({ name: "Road trip", readOnly: true });
    await waitUntil(async () => (await titlesOn(bob, listed.id)).join() === "Two,One" || undefined, { what: "its items on B", timeout: 30_000 });
    expect((await dave.get(`/api/v1/playlists/${listed.id}`)).status).toBe(404);
    expect(await bobsPlaylists(dave)).toEqual([]);
    // Its audio is a library here, but the playlist stands for it: bob's libraries do not list it.
    expect(((await bob.get("/api/v1/libraries?scope=visible")).body.items as { name: string }[]).map((l) => l.name)).not.toContain("Road trip");
    // Search finds it for bob only.
    const found = (await bob.get("/api/v1/search?q=road")).body.playlists;
    expect(found).toEqual([expect.objectContaining({ id: listed.id, name: "Road trip", owner: { id: null, username: `alice@${new URL(a.url).host}` } })]);
    expect((await dave.get("/api/v1/search?q=road")).body.playlists).toEqual([]);
  });

  it("its tracks play on B: the bytes of alice's private copy, fetched as bob", async () => {
    const listed = (await bobsPlaylists()).find((p) => p.remoteId === collectionOf(mix.id))!;
    const items = (await bob.get(`/api/v1/playlists/${listed.id}`)).body.items as { title: string; trackId: string }[];
    const two = items.find((i) => i.title === "Two")!;
    const res = await fetch(`${b.url}/api/v1/tracks/${two.trackId}/stream`, { headers: { cookie: bob.cookie! } });
    expect(res.status).toBe(200);
    expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(sha(bytes[1]!));
    // dave follows nothing: the track is not his to hear.
    expect((await fetch(`${b.url}/api/v1/tracks/${two.trackId}/stream`, { headers: { cookie: dave.cookie! } })).status).toBe(404);
  });

  it("refuses edits on B with a clear 403, and Subsonic lists it as read-only and refuses changes", async () => {
    const listed = (await bobsPlaylists()).find((p) => p.remoteId === collectionOf(mix.id))!;
    const items = (await bob.get(`/api/v1/playlists/${listed.id}`)).body.items as { trackId: string }[];
    const add = await bob.post(`/api/v1/playlists/${listed.id}/items`, { trackIds: [items[0]!.trackId] });
    expect(add.status).toBe(403);
    expect(add.body.error?.code ?? add.body.code).toBe("read_only");
    expect((await bob.request("PATCH", `/api/v1/playlists/${listed.id}`, { json: { name: "Mine now" } })).status).toBe(403);
    expect((await bob.request("DELETE", `/api/v1/playlists/${listed.id}`)).status).toBe(403);

    const creds = (await bob.get("/api/v1/me/subsonic")).body;
    const all = await rest(b.url, "getPlaylists", { ...tokenParams(creds), f: "json" });
    expect(all.json.playlists.playlist).toEqual([
      expect.objectContaining({ id: listed.id, name: "Road trip", owner: `alice@${new URL(a.url).host}`, readonly: true, songCount: 2 }),
    ]);
    const one = await rest(b.url, "getPlaylist", { ...tokenParams(creds), f: "json", id: listed.id });
    expect(one.json.playlist.entry.map((e: { title: string }) => e.title)).toEqual(["Two", "One"]);
    expect(one.json.playlist.duration).toBeGreaterThan(0);
    const change = await rest(b.url, "updatePlaylist", { ...tokenParams(creds), f: "json", playlistId: listed.id, name: "Mine now" });
    expect(change.json.error.code).toBe(50);
  });

  it("items added, moved and removed on A reach B", async () => {
    const listed = (await bobsPlaylists()).find((p) => p.remoteId === collectionOf(mix.id))!;
    expect((await alice.post(`/api/v1/playlists/${mix.id}/items`, { trackIds: [tracks[2]!.trackId] })).status).toBe(201);
    await waitUntil(async () => (await titlesOn(bob, listed.id)).join() === "Two,One,Three" || undefined, { what: "the added item on B", timeout: 30_000 });

    const onA = async () => (await alice.get(`/api/v1/playlists/${mix.id}`)).body.items as { id: string; title: string }[];
    const three = (await onA()).find((i) => i.title === "Three")!;
    expect((await alice.post(`/api/v1/playlists/${mix.id}/items/${three.id}/move`, { position: 0 })).status).toBe(200);
    await waitUntil(async () => (await titlesOn(bob, listed.id)).join() === "Three,Two,One" || undefined, { what: "the move on B", timeout: 30_000 });

    const two = (await onA()).find((i) => i.title === "Two")!;
    expect((await alice.request("DELETE", `/api/v1/playlists/${mix.id}/items/${two.id}`)).status).toBe(204);
    await waitUntil(async () => (await titlesOn(bob, listed.id)).join() === "Three,One" || undefined, { what: "the removal on B", timeout: 30_000 });
    expect(await titlesOn(bob, listed.id)).toEqual(["Three", "One"]);
  });

  it("gives the follower server's signer the audio, and nobody else", async () => {
    const key = (await b.db.pool.query("SELECT fid, rsa_private_jwk FROM actor WHERE username = 'bob' AND is_local")).rows[0];
    const signed = (url: string) => fetch(url, { headers: signatureHeaders("GET", new URL(url), { keyId: `${key.fid}#main-key`, privateJwk: key.rsa_private_jwk }) });
    expect((await signed(`${a.url}/federation/media/${tracks[2]!.uploadId}`)).status).toBe(200);
    // Two is no longer in the playlist: its audio is alice's private music again.
    expect((await signed(`${a.url}/federation/media/${tracks[1]!.uploadId}`)).status).toBe(404);
  });

  it("when alice makes it private, B drops it and A forgets the follow", async () => {
    expect((await alice.request("PATCH", `/api/v1/playlists/${mix.id}`, { json: { privacy: "private" } })).status).toBe(200);
    await waitUntil(async () => (await bobsPlaylists()).length === 0 || undefined, { what: "B to drop the playlist", timeout: 30_000 });
    expect((await a.db.pool.query("SELECT count(*)::int AS n FROM follow WHERE playlist_id = $1", [mix.id])).rows[0].n).toBe(0);
    await waitUntil(async () => (await b.db.pool.query("SELECT count(*)::int AS n FROM upload WHERE storage = 'remote'")).rows[0].n === 0 || undefined, {
      what: "B to drop the copies only the playlist held",
    });
  });
});

describe("an instance playlist", () => {
  let shared: { id: string; actorId: string };

  beforeAll(async () => {
    shared = (await alice.post("/api/v1/playlists", { name: "Staff picks", privacy: "instance" })).body;
    await alice.post(`/api/v1/playlists/${shared.id}/items`, { trackIds: [tracks[0]!.trackId] });
  });

  it("shows its head to anyone but its pages to its followers only; bad page numbers are 4xx", async () => {
    expect((await fetch(collectionOf(shared.id), { headers: jsonLd })).status).toBe(200);
    expect((await fetch(`${collectionOf(shared.id)}?page=1`, { headers: jsonLd })).status).toBe(404);
    expect((await fetch(`${collectionOf(shared.id)}/library?page=1`, { headers: jsonLd })).status).toBe(404);
    const bad = await fetch(`${a.url}/federation/playlists/not-a-playlist`, { headers: jsonLd });
    expect([bad.status, (await bad.json()).error?.code]).toEqual([404, "not_found"]);
    const page = await fetch(`${collectionOf(mix.id)}?page=1`, { headers: jsonLd });
    expect(page.status).toBe(404); // made private above: gone for everyone
  });

  it("is followed and listed among bob's follows; unfollowing tells A and drops it on B", async () => {
    const followed = await bob.post("/api/v1/federation/follows", { target: shared.actorId });
    expect(followed.status).toBe(201);
    const listed = await waitUntil(async () => (await bobsPlaylists()).find((p) => p.remoteId === collectionOf(shared.id)), { what: "the playlist on B" });
    await waitUntil(async () => (await titlesOn(bob, listed.id)).join() === "One" || undefined, { what: "its item on B", timeout: 30_000 });
    // A's pages now answer bob's server, signed as bob.
    const key = (await b.db.pool.query("SELECT fid, rsa_private_jwk FROM actor WHERE username = 'bob' AND is_local")).rows[0];
    const url = new URL(`${collectionOf(shared.id)}?page=1`);
    const signed = await fetch(url, { headers: { ...jsonLd, ...signatureHeaders("GET", url, { keyId: `${key.fid}#main-key`, privateJwk: key.rsa_private_jwk }) } });
    expect(signed.status).toBe(200);

    const follows = (await bob.get("/api/v1/federation/follows")).body.items as { id: string; state: string; playlist?: { fid: string } }[];
    const mine = follows.find((f) => f.playlist?.fid === collectionOf(shared.id));
    expect(mine?.state).toBe("accepted");
    expect((await bob.request("DELETE", `/api/v1/federation/follows/${mine!.id}`)).status).toBe(204);
    expect(await bobsPlaylists()).toEqual([]);
    await waitUntil(async () => (await a.db.pool.query("SELECT count(*)::int AS n FROM follow WHERE playlist_id = $1", [shared.id])).rows[0].n === 0 || undefined, {
      what: "the Undo on A",
    });
    expect((await b.db.pool.query("SELECT count(*)::int AS n FROM playlist WHERE owner_id IS NULL")).rows[0].n).toBe(0);
  });

  it("a private playlist cannot be followed", async () => {
    const res = await bob.post("/api/v1/federation/follows", { target: collectionOf(secret.id) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("remote_not_found");
  });
});

describe("the daily rescan of followed playlists", () => {
  it("drops a playlist whose server no longer serves it, though its Delete never came", async () => {
    const lost = (await alice.post("/api/v1/playlists", { name: "Lost", privacy: "public" })).body as { id: string; actorId: string };
    await alice.post(`/api/v1/playlists/${lost.id}/items`, { trackIds: [tracks[2]!.trackId] });
    expect((await bob.post("/api/v1/federation/follows", { target: collectionOf(lost.id) })).status).toBe(201);
    await waitUntil(async () => (await bobsPlaylists()).find((p) => p.remoteId === collectionOf(lost.id)), { what: "the playlist on B" });
    // Gone on A behind federation's back (no Delete sent); B last read it two days ago.
    await a.db.pool.query("DELETE FROM playlist WHERE id = $1", [lost.id]);
    await b.db.pool.query("UPDATE playlist SET last_scan_at = now() - interval '2 days' WHERE fid = $1", [collectionOf(lost.id)]);
    expect(await enqueueScheduledPlaylistScans(b.db.pool)).toBe(1);
    await waitUntil(async () => (await bobsPlaylists()).length === 0 || undefined, { what: "B to drop it", timeout: 30_000 });
    expect(await enqueueScheduledPlaylistScans(b.db.pool)).toBe(0);
  });
});
