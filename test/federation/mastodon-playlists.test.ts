import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIO_ATTACHMENTS, NOTES_PER_HOUR, notesBudgetKey, TRACKS_LISTED } from "../../core/fediverse/album-announcements.ts";
import { makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks, type SeededTrack } from "../helpers/factories.ts";
import { verifyAsMastodon } from "../helpers/mastodon-checks.ts";
import { freePort } from "../helpers/ports.ts";
import { type RemoteActorServer, startRemoteActorServer } from "../helpers/remote-actor-server.ts";
import { waitUntil } from "../helpers/wait.ts";

// A Mastodon account follows a public playlist (issue 17, point 3), and learns of deletions; a Mastodon
// user following one of our people is answered. Mastodon's payloads as it sends them (FollowSerializer:
// object the target actor; UndoFollowSerializer: the Follow embedded), and what we send checked as
// Mastodon reads it (StatusParser, MediaAttachmentParser; Delete#delete_person: object == actor; Reject
// of a follow request: the Follow embedded). A Polyphony server follows the same playlist beside it.

const AP = { accept: "application/activity+json" };
const PUBLIC = ["https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"];

let app: TestApp;
let mastodon: RemoteActorServer;
let peer: RemoteActorServer;
let alice: TestClient;
let open: SeededTrack[];
let hidden: SeededTrack;
let mix: { id: string; actorId: string };

const host = () => new URL(app.url).host;
const handleOf = (actorId: string) => new URL(actorId).pathname.split("/").pop()!;
const parsed = (server: RemoteActorServer, type: string) =>
  server.received.map((r) => ({ ...r, json: JSON.parse(r.body) })).filter((r) => r.json.type === type);
const jobs = async (task: string) =>
  (await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = $1", [task])).rows[0].n as number;
const settled = () =>
  waitUntil(async () => (await jobs("publish_playlist")) + (await jobs("publish_library")) + (await jobs("fedify")) === 0 || undefined, { what: "deliveries" });
const followsOf = async (fid: string) =>
  (await app.db.pool.query("SELECT f.state FROM follow f JOIN actor a ON a.id = f.follower_id WHERE a.fid = $1", [fid])).rows as { state: string }[];

/** Mastodon's Follow of `actorId` by `name`, POSTed to the actor's inbox; resolves once the Accept came back. */
async function mastodonFollows(name: string, actorId: string) {
  const follow = { "@context": "https://www.w3.org/ns/activitystreams", id: `${mastodon.origin}/${randomUUID()}`, type: "Follow", actor: mastodon.actorId(name), object: actorId };
  expect((await mastodon.post(`${actorId}/inbox`, follow, mastodon.key(name))).status).toBe(202);
  const accept = await waitUntil(() => parsed(mastodon, "Accept").find((a) => a.json.object?.id === follow.id), { what: "the Accept" });
  return { follow, accept };
}

/** A follower on a Polyphony server, stored as its accepted Follow would leave it (that flow is tested in playlists.test.ts). */
async function peerFollows(name: string, column: "playlist_id" | "library_id", id: string) {
  const actor = await app.deps.remoteActors.resolve(peer.actorId(name));
  await app.db.pool.query(
    "INSERT INTO domain (name, software_name, software_version, last_seen_at) VALUES ($1, 'polyphony', '0.1.0', now()) ON CONFLICT (name) DO UPDATE SET software_name = 'polyphony'",
    [actor.domain],
  );
  await app.db.pool.query(`INSERT INTO follow (id, fid, follower_id, ${column}, state) VALUES ($1, $2, $3, $4, 'accepted')`, [
    randomUUID(), `${actor.fid}#follows/${randomUUID()}`, actor.id, id,
  ]);
}

beforeAll(async () => {
  mastodon = await startRemoteActorServer({ software: { name: "mastodon", version: "4.3.2" } });
  peer = await startRemoteActorServer({ software: { name: "polyphony", version: "0.1.0" } });
  const port = await freePort();
  app = await startTestApp({ worker: true, env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
  alice = new TestClient(app.url);
  await alice.signup("alice");
  const shared = (await alice.post("/api/v1/libraries", { name: "Shared", privacy: "public" })).body;
  const mine = (await alice.post("/api/v1/libraries", { name: "Mine", privacy: "private" })).body;
  const cover = await makeCoverImage(300, 300, "png");
  open = await seedTracks(app, shared.id, [
    { tags: { TITLE: "Open <Road>", ARTIST: "The Band", ALBUM: "Highway", TRACKNUMBER: "1" }, cover },
    { tags: { TITLE: "Later", ARTIST: "The Band", ALBUM: "Highway", TRACKNUMBER: "2" }, cover },
  ]);
  hidden = (await seedTracks(app, mine.id, [{ tags: { TITLE: "Secret Song", ARTIST: "Nobody", ALBUM: "Drawer" } }]))[0]!;
  mix = (await alice.post("/api/v1/playlists", { name: "Road mix", privacy: "public" })).body;
}, 60_000);
afterAll(async () => {
  await app?.close();
  await mastodon?.close();
  await peer?.close();
});

describe("a Mastodon account following a public playlist", () => {
  it("finds it by its handle and follows its actor: the Accept, signed by the playlist, names the actor as sent", async () => {
    const finger = await fetch(`${app.url}/.well-known/webfinger?resource=${encodeURIComponent(`acct:${handleOf(mix.actorId)}@${host()}`)}`);
    expect(finger.status).toBe(200);
    const links = ((await finger.json()) as { links: { rel: string; type: string; href: string }[] }).links;
    expect(links.find((l) => l.rel === "self")).toMatchObject({ type: "application/activity+json", href: mix.actorId });

    const { follow, accept } = await mastodonFollows("carol", mix.actorId);
    expect(accept.json).toMatchObject({ actor: mix.actorId, object: { type: "Follow", id: follow.id, actor: mastodon.actorId("carol"), object: mix.actorId } });
    expect(await verifyAsMastodon(accept, mastodon.origin)).toBe(`${mix.actorId}#main-key`);
    expect(await followsOf(mastodon.actorId("carol"))).toEqual([{ state: "accepted" }]);
    await waitUntil(async () => (await app.db.pool.query("SELECT 1 FROM domain WHERE name = $1 AND software_name = 'mastodon'", [new URL(mastodon.origin).host])).rowCount || undefined, {
      what: "Mastodon's NodeInfo",
    });
    await peerFollows("dave", "playlist_id", mix.id);
  });

  it("posts a Note of the tracks added, as Mastodon reads it; no Update(Playlist) reaches Mastodon, the Polyphony peer gets it", async () => {
    expect((await alice.post(`/api/v1/playlists/${mix.id}/items`, { trackIds: [open[0]!.trackId, hidden.trackId] })).status).toBe(201);
    const create = await waitUntil(() => parsed(mastodon, "Create")[0], { what: "the Create(Note)" });
    expect(await verifyAsMastodon(create, mastodon.origin)).toBe(`${mix.actorId}#main-key`);
    expect(create.json.actor).toBe(mix.actorId);
    const note = create.json.object;
    expect(note.type).toBe("Note");
    expect(new URL(note.id).host).toBe(host());
    expect(note.attributedTo).toBe(mix.actorId);
    expect(note.url).toBe(`${app.url}/playlists/${mix.id}`);
    expect(note.published).toEqual(expect.any(String));
    const albumId = (await app.db.pool.query("SELECT id FROM album WHERE title = 'Highway'")).rows[0].id;
    expect(note.content).toContain("Road mix");
    expect(note.content).toContain("2 tracks");
    expect(note.content).toContain(`<a href="${app.url}/albums/${albumId}">Open &lt;Road&gt;</a> by The Band`);
    expect(note.content).toContain("Secret Song");
    // Unlisted, to the playlist's followers (visibility_from_audience).
    expect([note.to].flat()).toContain(`${mix.actorId}/followers`);
    expect([note.cc].flat().some((cc: string) => PUBLIC.includes(cc))).toBe(true);
    // The cover, and the audio of the track anyone may fetch; not the one only alice's private library holds.
    const attachments = [note.attachment].flat();
    expect(attachments.filter((a) => a.mediaType?.startsWith("image/"))).toEqual([expect.objectContaining({ type: "Image", mediaType: "image/jpeg" })]);
    const audio = attachments.filter((a) => a.mediaType?.startsWith("audio/"));
    expect(audio).toHaveLength(1);
    expect(audio[0]).toMatchObject({ type: "Document", mediaType: "audio/mpeg", url: `${app.url}/federation/media/${open[0]!.uploadId}` });
    for (const attachment of attachments) expect((await fetch(attachment.url)).status).toBe(200);
    // The Note answers at its id, unsigned.
    const fetched = await fetch(note.id, { headers: AP });
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).toMatchObject({ id: note.id, type: "Note", attributedTo: mix.actorId, url: note.url });

    await settled();
    expect(parsed(mastodon, "Update")).toEqual([]);
    expect(parsed(mastodon, "Create")).toHaveLength(1);
    const updates = parsed(peer, "Update").map((u) => u.json);
    expect(updates.map((u) => u.object.id ?? u.object)).toEqual([`${app.url}/federation/playlists/${mix.id}`]);
    expect(parsed(peer, "Create")).toEqual([]);
  });

  it("posts nothing for an edit that adds nothing, and tells Mastodon of a rename with Update of the actor", async () => {
    const items = (await alice.get(`/api/v1/playlists/${mix.id}`)).body.items as { id: string }[];
    expect((await alice.post(`/api/v1/playlists/${mix.id}/items/${items[1]!.id}/move`, { position: 0 })).status).toBe(200);
    expect((await alice.request("PATCH", `/api/v1/playlists/${mix.id}`, { json: { name: "Road mix, renamed" } })).status).toBe(200);
    const update = await waitUntil(() => parsed(mastodon, "Update")[0], { what: "the Update of the actor" });
    expect(await verifyAsMastodon(update, mastodon.origin)).toBe(`${mix.actorId}#main-key`);
    expect(update.json).toMatchObject({ actor: mix.actorId, object: { id: mix.actorId, name: "Road mix, renamed" } });
    await settled();
    expect(parsed(mastodon, "Create")).toHaveLength(1);
    expect(parsed(mastodon, "Update")).toHaveLength(1);
  });

  it("posts no more than NOTES_PER_HOUR Notes a playlist an hour (the library's counter), then again", async () => {
    const key = notesBudgetKey(mix.id);
    await app.db.pool.query("UPDATE rate_limit SET hits = $2 WHERE key = $1", [key, NOTES_PER_HOUR]);
    expect((await alice.post(`/api/v1/playlists/${mix.id}/items`, { trackIds: [open[1]!.trackId] })).status).toBe(201);
    await settled();
    expect(parsed(mastodon, "Create")).toHaveLength(1);
    await app.db.pool.query("UPDATE rate_limit SET window_start = now() - interval '2 hours' WHERE key = $1", [key]);
    expect((await alice.post(`/api/v1/playlists/${mix.id}/items`, { trackIds: [open[1]!.trackId, open[0]!.trackId] })).status).toBe(201);
    const next = await waitUntil(() => parsed(mastodon, "Create")[1], { what: "the Note of the next hour" });
    expect(next.json.object.content).toContain("2 tracks");
  });

  it("stops posting after Mastodon's Undo(Follow)", async () => {
    const accepted = parsed(mastodon, "Accept").find((a) => a.json.actor === mix.actorId)!.json.object;
    const undo = { "@context": "https://www.w3.org/ns/activitystreams", id: `${mastodon.actorId("carol")}#follows/1/undo`, type: "Undo", actor: mastodon.actorId("carol"), object: accepted };
    expect((await mastodon.post(`${app.url}/inbox`, undo, mastodon.key("carol"))).status).toBe(202);
    await waitUntil(async () => (await followsOf(mastodon.actorId("carol"))).length === 0 || undefined, { what: "the follow to go" });
    const peerUpdates = parsed(peer, "Update").length;
    const before = parsed(mastodon, "Create").length;
    expect((await alice.post(`/api/v1/playlists/${mix.id}/items`, { trackIds: [open[1]!.trackId] })).status).toBe(201);
    await waitUntil(() => parsed(peer, "Update")[peerUpdates], { what: "the peer's Update" });
    await settled();
    expect(parsed(mastodon, "Create")).toHaveLength(before);
  });
});

describe("a Mastodon account following an instance playlist", () => {
  it("gets followers-only Notes without attachments, which answer 404 at their id", async () => {
    const inside = (await alice.post("/api/v1/playlists", { name: "Members' mix", privacy: "instance" })).body as { id: string; actorId: string };
    await mastodonFollows("gina", inside.actorId);
    expect((await alice.post(`/api/v1/playlists/${inside.id}/items`, { trackIds: [open[0]!.trackId] })).status).toBe(201);
    const create = await waitUntil(() => parsed(mastodon, "Create").find((c) => c.json.actor === inside.actorId), { what: "the followers-only Note" });
    const note = create.json.object;
    expect(note.content).toContain("a track");
    expect([note.to].flat()).toEqual([`${inside.actorId}/followers`]);
    expect(note.cc ?? []).toEqual([]);
    expect(note.attachment ?? []).toEqual([]);
    expect((await fetch(note.id, { headers: AP })).status).toBe(404);
  });

  it("lists TRACKS_LISTED tracks of a bigger edit and counts the rest", async () => {
    const big = (await alice.post("/api/v1/playlists", { name: "Long drive", privacy: "public" })).body as { id: string; actorId: string };
    await mastodonFollows("gina", big.actorId);
    const trackIds = Array.from({ length: TRACKS_LISTED + 5 }, (_, n) => open[n % 2]!.trackId);
    expect((await alice.post(`/api/v1/playlists/${big.id}/items`, { trackIds })).status).toBe(201);
    const create = await waitUntil(() => parsed(mastodon, "Create").find((c) => c.json.actor === big.actorId), { what: "the Note" });
    const content = create.json.object.content as string;
    expect(content).toContain(`${TRACKS_LISTED + 5} tracks`);
    expect(content.split("<br>")).toHaveLength(TRACKS_LISTED + 1);
    expect(content).toContain("and 5 more");
    // Mastodon shows 4 attachments: the cover and AUDIO_ATTACHMENTS tracks.
    expect([create.json.object.attachment].flat()).toHaveLength(1 + AUDIO_ATTACHMENTS);
  });
});

describe("deletions told to Mastodon", () => {
  const keyOf = async (actorId: string) => ((await fetch(actorId, { headers: AP }).then((r) => r.json())) as { publicKey: { publicKeyPem: string } }).publicKey.publicKeyPem;
  const deleteOf = (actorId: string) => waitUntil(() => parsed(mastodon, "Delete").find((d) => d.json.actor === actorId), { what: `the Delete of ${actorId}` });

  it("a removed item that named a Note: Delete of the Note (a Tombstone), signed by the playlist; other removals send nothing", async () => {
    const trimmed = (await alice.post("/api/v1/playlists", { name: "Trimmed", privacy: "public" })).body as { id: string; actorId: string };
    await mastodonFollows("erin", trimmed.actorId);
    expect((await alice.post(`/api/v1/playlists/${trimmed.id}/items`, { trackIds: [open[0]!.trackId, open[1]!.trackId] })).status).toBe(201);
    const create = await waitUntil(() => parsed(mastodon, "Create").find((c) => c.json.actor === trimmed.actorId), { what: "the Create(Note)" });
    const note = create.json.object;
    const key = new URL(note.id).pathname.split("/").pop()!;
    const items = (await alice.get(`/api/v1/playlists/${trimmed.id}`)).body.items as { id: string }[];
    const other = items.find((item) => item.id !== key)!;
    // Removing an item that named no Note: nothing to delete.
    expect((await alice.request("DELETE", `/api/v1/playlists/${trimmed.id}/items/${other.id}`)).status).toBe(204);
    await settled();
    expect(parsed(mastodon, "Delete").filter((d) => d.json.actor === trimmed.actorId)).toEqual([]);
    expect((await alice.request("DELETE", `/api/v1/playlists/${trimmed.id}/items/${key}`)).status).toBe(204);
    const deletion = await waitUntil(() => parsed(mastodon, "Delete").find((d) => d.json.actor === trimmed.actorId), { what: "the Delete of the Note" });
    expect(await verifyAsMastodon(deletion, mastodon.origin)).toBe(`${trimmed.actorId}#main-key`);
    expect(deletion.json.object).toMatchObject({ type: "Tombstone", id: note.id });
    expect((await fetch(note.id, { headers: AP })).status).toBe(404);
    await settled();
    expect(parsed(mastodon, "Delete").filter((d) => d.json.actor === trimmed.actorId)).toHaveLength(1);
  });

  it("a deleted playlist: Delete of its actor (object == actor), signed by its kept key; the peer gets Delete(Playlist)", async () => {
    const gone = (await alice.post("/api/v1/playlists", { name: "Short-lived", privacy: "public" })).body as { id: string; actorId: string };
    await mastodonFollows("erin", gone.actorId);
    await peerFollows("dave", "playlist_id", gone.id);
    const key = await keyOf(gone.actorId);
    expect((await alice.request("DELETE", `/api/v1/playlists/${gone.id}`)).status).toBe(204);
    const deletion = await deleteOf(gone.actorId);
    expect(deletion.json.object).toBe(gone.actorId);
    expect(await verifyAsMastodon(deletion, mastodon.origin, key)).toBe(`${gone.actorId}#main-key`);
    // Its actor answers 410 now, as Mastodon checks when it reads it again.
    expect((await fetch(gone.actorId, { headers: AP })).status).toBe(410);
    const peerDelete = await waitUntil(() => parsed(peer, "Delete").find((d) => d.json.object === `${app.url}/federation/playlists/${gone.id}` || d.json.object?.id === `${app.url}/federation/playlists/${gone.id}`), {
      what: "the peer's Delete(Playlist)",
    });
    expect(peerDelete.json.actor).toBe(`${app.url}/actors/alice`);
    await settled();
    expect(parsed(mastodon, "Delete").filter((d) => d.json.actor === gone.actorId)).toHaveLength(1);
  });

  it("a playlist made private: Delete of its actor, and its follows end", async () => {
    const hush = (await alice.post("/api/v1/playlists", { name: "Going quiet", privacy: "public" })).body as { id: string; actorId: string };
    await mastodonFollows("erin", hush.actorId);
    const key = await keyOf(hush.actorId);
    expect((await alice.request("PATCH", `/api/v1/playlists/${hush.id}`, { json: { privacy: "private" } })).status).toBe(200);
    const deletion = await deleteOf(hush.actorId);
    expect(deletion.json.object).toBe(hush.actorId);
    expect(await verifyAsMastodon(deletion, mastodon.origin, key)).toBe(`${hush.actorId}#main-key`);
    expect((await app.db.pool.query("SELECT 1 FROM follow WHERE playlist_id = $1", [hush.id])).rowCount).toBe(0);
  });

  it("a deleted library: Delete of its actor to Mastodon, Delete(Library) to the peer", async () => {
    const shelf = (await alice.post("/api/v1/libraries", { name: "Old shelf", privacy: "public" })).body as { id: string; actorId: string };
    await mastodonFollows("erin", shelf.actorId);
    await peerFollows("dave", "library_id", shelf.id);
    const key = await keyOf(shelf.actorId);
    expect((await alice.request("DELETE", `/api/v1/libraries/${shelf.id}`)).status).toBe(204);
    const deletion = await deleteOf(shelf.actorId);
    expect(deletion.json.object).toBe(shelf.actorId);
    expect(await verifyAsMastodon(deletion, mastodon.origin, key)).toBe(`${shelf.actorId}#main-key`);
    const peerDelete = await waitUntil(() => parsed(peer, "Delete").find((d) => d.json.actor === shelf.actorId), { what: "the peer's Delete(Library)" });
    expect(peerDelete.json.object.id ?? peerDelete.json.object).toBe(`${app.url}/federation/libraries/${shelf.id}`);
  });
});

describe("a Mastodon user following one of our people", () => {
  it("gets a Reject from that person, embedding its Follow as sent, and nothing is stored", async () => {
    const person = `${app.url}/actors/alice`;
    const follow = { "@context": "https://www.w3.org/ns/activitystreams", id: `${mastodon.origin}/${randomUUID()}`, type: "Follow", actor: mastodon.actorId("frank"), object: person };
    expect((await mastodon.post(`${person}/inbox`, follow, mastodon.key("frank"))).status).toBe(202);
    const reject = await waitUntil(() => parsed(mastodon, "Reject").find((r) => r.json.object?.id === follow.id), { what: "the Reject" });
    expect(reject.json).toMatchObject({ actor: person, object: { type: "Follow", id: follow.id, actor: mastodon.actorId("frank"), object: person } });
    expect(await verifyAsMastodon(reject, mastodon.origin)).toBe(`${person}#main-key`);
    expect(await followsOf(mastodon.actorId("frank"))).toEqual([]);
  });
});
