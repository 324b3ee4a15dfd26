import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { albumAnnouncements, NOTES_PER_HOUR, NOTES_PER_JOB, notesBudgetKey } from "../../core/fediverse/album-announcements.ts";
import { hasFfmpeg, makeAudio, makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { verifyAsMastodon } from "../helpers/mastodon-checks.ts";
import { waitForImports } from "../helpers/imports.ts";
import { freePort } from "../helpers/ports.ts";
import { type RemoteActorServer, startRemoteActorServer } from "../helpers/remote-actor-server.ts";
import { waitUntil } from "../helpers/wait.ts";

// A Mastodon account follows a public library: the payloads are Mastodon's (FollowSerializer: id
// `<root>/<uuid>`, object the target actor; UndoFollowSerializer: id `<actor>#follows/<id>/undo`, the
// Follow embedded), and what we send is checked as Mastodon reads it (ProcessAccountService needs
// preferredUsername, inbox, publicKey; StatusParser and MediaAttachmentParser read the Note).

const AP = { accept: "application/activity+json" };
const PUBLIC = ["https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"];

let app: TestApp;
let mastodon: RemoteActorServer;
let funkwhale: RemoteActorServer;
let alice: TestClient;
let library: { id: string; actorId: string };
let dir: string;
let coverPng: Buffer;

const host = () => new URL(app.url).host;
const received = (type: string) => mastodon.received.map((r) => ({ ...r, json: JSON.parse(r.body) })).filter((r) => r.json.type === type);
const jobs = async (task: string) =>
  (await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = $1", [task])).rows[0].n as number;
const settled = () => waitUntil(async () => (await jobs("publish_library")) + (await jobs("fedify")) === 0 || undefined, { what: "deliveries" });

async function uploadTracks(libraryId: string, specs: { name: string; title: string; album: string; cover?: boolean }[]) {
  const files = await Promise.all(
    specs.map(async (s) => ({
      name: `${s.name}.mp3`,
      data: await readFile(
        await makeAudio(dir, { name: s.name, format: "mp3", tags: { TITLE: s.title, ARTIST: "The Band", ALBUMARTIST: "The Band", ALBUM: s.album }, cover: s.cover ? coverPng : undefined }),
      ),
    })),
  );
  expect((await alice.upload(`/api/v1/libraries/${libraryId}/uploads`, files)).status).toBe(201);
  await waitForImports(app.db.pool, libraryId);
}

beforeAll(async () => {
  if (!hasFfmpeg()) return;
  mastodon = await startRemoteActorServer({ software: { name: "mastodon", version: "4.3.2" } });
  funkwhale = await startRemoteActorServer({ software: { name: "funkwhale", version: "1.4.0" } });
  const port = await freePort();
  app = await startTestApp({
    worker: true,
    env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" },
  });
  alice = new TestClient(app.url);
  await alice.signup("alice");
  library = (await alice.post("/api/v1/libraries", { name: "Open shelf", privacy: "public" })).body;
  dir = await mkdtemp(path.join(os.tmpdir(), "polyphony-mastodon-"));
  coverPng = await makeCoverImage(300, 300, "png");
  // Before anyone follows: its cover becomes the library's avatar.
  await uploadTracks(library.id, [{ name: "first", title: "First Light", album: "Dawn", cover: true }]);
}, 120_000);
afterAll(async () => {
  await app?.close();
  await mastodon?.close();
  await funkwhale?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!hasFfmpeg())("a Mastodon account following a public library", () => {
  const followId = () => `${mastodon.origin}/0b4c9a3e-5f7d-4c1e-9a2b-3d4e5f6a7b8c`;

  it("finds the library by its handle and reads a bot profile: avatar from its cover, bio, web page, discoverable", async () => {
    const username = new URL(library.actorId).pathname.split("/").pop()!;
    const finger = await fetch(`${app.url}/.well-known/webfinger?resource=${encodeURIComponent(`acct:${username}@${host()}`)}`);
    expect(finger.status).toBe(200);
    const self = ((await finger.json()) as { links: { rel: string; type: string; href: string }[] }).links.find((l) => l.rel === "self");
    expect(self).toMatchObject({ type: "application/activity+json", href: library.actorId });

    const actor = (await fetch(library.actorId, { headers: AP }).then((r) => r.json())) as Record<string, any>;
    // Mastodon's bot types (Account#bot?: Application or Service) and what it requires.
    expect(["Application", "Service"]).toContain(actor.type);
    expect(actor).toMatchObject({ id: library.actorId, preferredUsername: username, name: "Open shelf", discoverable: true, manuallyApprovesFollowers: false });
    expect(actor.inbox).toBe(`${library.actorId}/inbox`);
    expect(actor.publicKey).toMatchObject({ id: `${library.actorId}#main-key`, owner: library.actorId, publicKeyPem: expect.stringContaining("BEGIN PUBLIC KEY") });
    expect(actor.summary).toContain("Open shelf");
    expect(actor.summary).toContain(`@alice@${host()}`);
    const url = typeof actor.url === "string" ? actor.url : actor.url.href;
    expect(url).toBe(`${app.url}/libraries/${library.id}`);
    expect(actor.icon).toMatchObject({ type: "Image", mediaType: "image/jpeg", url: expect.stringMatching(/\/federation\/covers\/[0-9a-f]+\/600\.jpg$/) });
    // Mastodon downloads the avatar without signing.
    const icon = await fetch(actor.icon.url);
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toMatch(/^image\/jpeg/);
  });

  it("answers Mastodon's Follow with a signed Accept that embeds the Follow as Mastodon sent it", async () => {
    const follow = { "@context": "https://www.w3.org/ns/activitystreams", id: followId(), type: "Follow", actor: mastodon.actorId("carol"), object: library.actorId };
    const res = await mastodon.post(`${app.url}/actors/${new URL(library.actorId).pathname.split("/").pop()}/inbox`, follow, mastodon.key("carol"));
    expect(res.status).toBe(202);
    const accept = await waitUntil(() => received("Accept")[0], { what: "the Accept" });
    expect(accept.json).toMatchObject({ actor: library.actorId, object: { type: "Follow", id: followId(), actor: mastodon.actorId("carol"), object: library.actorId } });
    expect(await verifyAsMastodon(accept, mastodon.origin)).toBe(`${library.actorId}#main-key`);
    const { rows } = await app.db.pool.query("SELECT f.state FROM follow f JOIN actor a ON a.id = f.follower_id WHERE a.fid = $1", [mastodon.actorId("carol")]);
    expect(rows).toEqual([{ state: "accepted" }]);
    // Its server's NodeInfo says Mastodon: carol gets posts, not Audio activities.
    await waitUntil(async () => (await app.db.pool.query("SELECT 1 FROM domain WHERE name = $1 AND software_name = 'mastodon'", [new URL(mastodon.origin).host])).rowCount || undefined, {
      what: "the NodeInfo",
    });
  });

  it("posts a Note per album added, as Mastodon's parser reads it; a library peer still gets Create(Audio)", async () => {
    // A Funkwhale follower of the same library (its follow flow is tested elsewhere).
    const peer = await app.deps.remoteActors.resolve(funkwhale.actorId("dave"));
    await app.db.pool.query("INSERT INTO domain (name, software_name, software_version, last_seen_at) VALUES ($1, 'funkwhale', '1.4.0', now()) ON CONFLICT (name) DO UPDATE SET software_name = 'funkwhale'", [peer.domain]);
    await app.db.pool.query("INSERT INTO follow (id, fid, follower_id, library_id, state) VALUES ($1, $2, $3, $4, 'accepted')", [
      randomUUID(), `${peer.fid}#follows/1`, peer.id, library.id,
    ]);
    await uploadTracks(library.id, [{ name: "second", title: "Second <Wind>", album: "Dawn" }]);
    const create = await waitUntil(() => received("Create")[0], { what: "the Create(Note)" });
    expect(await verifyAsMastodon(create, mastodon.origin)).toBe(`${library.actorId}#main-key`);
    const note = create.json.object;
    expect(create.json.actor).toBe(library.actorId);
    expect(note.type).toBe("Note");
    // Mastodon rejects a Note whose id is on another host than its actor, and reads attributedTo.
    expect(new URL(note.id).host).toBe(new URL(library.actorId).host);
    expect(note.attributedTo).toBe(library.actorId);
    const albumId = (await app.db.pool.query("SELECT id FROM album WHERE title = 'Dawn'")).rows[0].id;
    expect(note.url).toBe(`${app.url}/albums/${albumId}`);
    expect(note.content).toContain("Second &lt;Wind&gt;");
    expect(note.content).toContain(`href="${app.url}/albums/${albumId}"`);
    expect(note.content).toContain("The Band");
    expect(note.content).toContain("Open shelf");
    expect(note.published).toEqual(expect.any(String));
    // Unlisted (Public in cc) to the library's followers: visibility_from_audience.
    expect([note.to].flat()).toContain(`${library.actorId}/followers`);
    expect([note.cc].flat().some((cc: string) => PUBLIC.includes(cc))).toBe(true);
    const attachments = [note.attachment].flat();
    const image = attachments.find((a) => a.mediaType?.startsWith("image/"));
    const audio = attachments.find((a) => a.mediaType?.startsWith("audio/"));
    expect(image).toMatchObject({ type: "Image", mediaType: "image/jpeg" });
    expect(audio).toMatchObject({ type: "Document", mediaType: "audio/mpeg" });
    // MediaAttachmentParser#remote_url: the url, fetched unsigned (the library is public).
    const media = await fetch(typeof audio.url === "string" ? audio.url : audio.url.href);
    expect(media.status).toBe(200);
    expect(media.headers.get("content-type")).toMatch(/^audio\//);
    // The Note answers at its id.
    const fetched = await fetch(note.id, { headers: AP });
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).toMatchObject({ id: note.id, type: "Note", attributedTo: library.actorId, url: note.url });

    await settled();
    // Mastodon got no Create(Audio) (it would post each track again); the Funkwhale peer got only that.
    expect(received("Create")).toHaveLength(1);
    const peerCreates = funkwhale.received.map((r) => JSON.parse(r.body)).filter((a) => a.type === "Create");
    expect(peerCreates.map((a) => a.object.type)).toEqual(["Audio"]);
  });

  it("posts one Note per album of an import, listing its tracks, and at most NOTES_PER_JOB per job", async () => {
    await uploadTracks(library.id, [
      { name: "p1", title: "Left", album: "Pair" },
      { name: "p2", title: "Right", album: "Pair" },
      { name: "s1", title: "Alone", album: "Solo" },
    ]);
    await settled();
    const notes = received("Create").slice(1).map((c) => c.json.object);
    expect(notes.length).toBeGreaterThanOrEqual(2);
    expect(notes.some((n) => n.content.includes("Left") && n.content.includes("Right") && n.content.includes("2 tracks")) || notes.length === 3).toBe(true);
    // Grouping and cap, on one job's uploads as the publish job reads them.
    const ids = (await app.db.pool.query("SELECT id FROM upload WHERE library_id = $1", [library.id])).rows.map((r) => r.id as string);
    const announcements = await albumAnnouncements(app.db.pool, library.id, ids);
    expect(announcements.map((a) => [a.albumTitle, a.tracks.map((t) => t.title).sort()])).toEqual(
      expect.arrayContaining([["Pair", ["Left", "Right"]], ["Solo", ["Alone"]], ["Dawn", ["First Light", "Second <Wind>"].sort()]]),
    );
    const shelf = (await alice.post("/api/v1/libraries", { name: "Many albums" })).body;
    await uploadTracks(shelf.id, Array.from({ length: NOTES_PER_JOB + 1 }, (_, i) => ({ name: `m${i}`, title: `Song ${i}`, album: `Album ${i}` })));
    const many = (await app.db.pool.query("SELECT id FROM upload WHERE library_id = $1", [shelf.id])).rows.map((r) => r.id as string);
    expect(await albumAnnouncements(app.db.pool, shelf.id, many)).toHaveLength(NOTES_PER_JOB);
  });

  it("posts no more than NOTES_PER_HOUR Notes a library an hour, then again once the hour is over", async () => {
    const key = notesBudgetKey(library.id);
    await app.db.pool.query("UPDATE rate_limit SET hits = $2 WHERE key = $1", [key, NOTES_PER_HOUR]);
    const before = received("Create").length;
    await uploadTracks(library.id, [{ name: "over", title: "Over Budget", album: "Excess" }]);
    await settled();
    expect(received("Create")).toHaveLength(before);
    await app.db.pool.query("UPDATE rate_limit SET window_start = now() - interval '2 hours' WHERE key = $1", [key]);
    await uploadTracks(library.id, [{ name: "fresh", title: "Fresh Hour", album: "Renewal" }]);
    await waitUntil(() => received("Create")[before], { what: "the Note of the next hour" });
  });

  it("deletes a Note on Mastodon when the upload naming it is deleted, in Mastodon's own shape", async () => {
    const note = received("Create").map((c) => c.json.object).find((n) => n.content.includes("Second &lt;Wind&gt;"));
    const key = new URL(note.id).pathname.split("/").pop()!;
    expect((await app.db.pool.query("SELECT library_id FROM sent_note WHERE key = $1", [key])).rows).toEqual([{ library_id: library.id }]);
    expect((await alice.request("DELETE", `/api/v1/uploads/${key}`)).status).toBe(204);
    const deletion = await waitUntil(() => received("Delete")[0], { what: "the Delete of the Note" });
    expect(await verifyAsMastodon(deletion, mastodon.origin)).toBe(`${library.actorId}#main-key`);
    // ActivityPub::Activity::Delete#delete_note: the status of this actor whose uri is the object's id.
    expect(deletion.json).toMatchObject({ type: "Delete", actor: library.actorId, object: { type: "Tombstone", id: note.id } });
    expect((await fetch(note.id, { headers: AP })).status).toBe(404);
    expect((await app.db.pool.query("SELECT 1 FROM sent_note WHERE key = $1", [key])).rowCount).toBe(0);
    // An upload that named no Note: nothing more to delete.
    const plain = (await app.db.pool.query(
      "SELECT u.id FROM upload u WHERE u.library_id = $1 AND NOT EXISTS (SELECT 1 FROM sent_note s WHERE s.key = u.id) ORDER BY u.created_at DESC LIMIT 1",
      [library.id],
    )).rows[0].id as string;
    expect((await alice.request("DELETE", `/api/v1/uploads/${plain}`)).status).toBe(204);
    await settled();
    expect(received("Delete")).toHaveLength(1);
  });

  it("tells Mastodon of a renamed library with Update of its actor, which Mastodon's copy of the profile takes", async () => {
    expect((await alice.request("PATCH", `/api/v1/libraries/${library.id}`, { json: { name: "Open shelf, renamed", description: "Songs <b>we</b> like" } })).status).toBe(200);
    const update = await waitUntil(() => received("Update")[0], { what: "the Update" });
    expect(await verifyAsMastodon(update, mastodon.origin)).toBe(`${library.actorId}#main-key`);
    // ActivityPub::Activity::Update#update_account: the actor updates itself, its document embedded.
    expect(update.json).toMatchObject({ actor: library.actorId, object: { id: library.actorId, name: "Open shelf, renamed", preferredUsername: expect.any(String) } });
    expect(update.json.object.summary).toBe("<p>Songs &lt;b&gt;we&lt;/b&gt; like</p>");
    expect(update.json.object.publicKey).toMatchObject({ id: `${library.actorId}#main-key` });
    // The peer got Update(Library) instead.
    await settled();
    const peerUpdates = funkwhale.received.map((r) => JSON.parse(r.body)).filter((a) => a.type === "Update");
    expect(peerUpdates.map((a) => a.object.id)).toEqual([`${app.url}/federation/libraries/${library.id}`]);
  });

  it("stops posting after Mastodon's Undo(Follow)", async () => {
    const undo = {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${mastodon.actorId("carol")}#follows/4242/undo`,
      type: "Undo",
      actor: mastodon.actorId("carol"),
      object: { id: followId(), type: "Follow", actor: mastodon.actorId("carol"), object: library.actorId },
    };
    const res = await mastodon.post(`${app.url}/inbox`, undo, mastodon.key("carol"));
    expect(res.status).toBe(202);
    await waitUntil(async () => (await app.db.pool.query("SELECT 1 FROM follow f JOIN actor a ON a.id = f.follower_id WHERE a.fid = $1", [mastodon.actorId("carol")])).rowCount === 0 || undefined, {
      what: "the follow to go",
    });
    const before = received("Create").length;
    await uploadTracks(library.id, [{ name: "late", title: "Too Late", album: "Dusk" }]);
    await settled();
    expect(received("Create")).toHaveLength(before);
    // The peer still hears of it (and of the two tracks of the budget's test).
    expect(funkwhale.received.map((r) => JSON.parse(r.body)).filter((a) => a.type === "Create")).toHaveLength(7);
  });

  it("for a private library: locked profile, follow approved by its owner, followers-only Notes without audio, unreadable at their id", async () => {
    const secret = (await alice.post("/api/v1/libraries", { name: "Friends only", privacy: "private" })).body as { id: string; actorId: string };
    const actor = (await fetch(secret.actorId, { headers: AP }).then((r) => r.json())) as Record<string, unknown>;
    expect(actor).toMatchObject({ manuallyApprovesFollowers: true, discoverable: false });
    const follow = { "@context": "https://www.w3.org/ns/activitystreams", id: `${mastodon.origin}/${randomUUID()}`, type: "Follow", actor: mastodon.actorId("erin"), object: secret.actorId };
    expect((await mastodon.post(`${app.url}/inbox`, follow, mastodon.key("erin"))).status).toBe(202);
    const pending = await waitUntil(async () => (await alice.get(`/api/v1/libraries/${secret.id}/followers`)).body.items[0], { what: "the follow request" });
    expect(pending.state).toBe("pending");
    expect((await alice.post(`/api/v1/libraries/${secret.id}/followers/${pending.id}/approve`, {})).status).toBe(200);
    await waitUntil(() => received("Accept").find((a) => a.json.object?.id === follow.id), { what: "the Accept" });

    const before = received("Create").length;
    await uploadTracks(secret.id, [{ name: "hush", title: "Hush", album: "Quiet", cover: true }]);
    const create = await waitUntil(() => received("Create")[before], { what: "the followers-only Note" });
    const note = create.json.object;
    expect(note.attributedTo).toBe(secret.actorId);
    expect([note.to].flat()).toEqual([`${secret.actorId}/followers`]);
    expect(note.cc ?? []).toEqual([]);
    // Nothing Mastodon could not fetch unsigned: no audio, no cover.
    expect(note.attachment ?? []).toEqual([]);
    expect((await fetch(note.id, { headers: AP })).status).toBe(404);
  });

  it("shows a public playlist's actor as a bot profile too: bio, web page, discoverable", async () => {
    const playlist = (await alice.post("/api/v1/playlists", { name: "Road mix", privacy: "public" })).body as { id: string; actorId: string };
    const actor = (await fetch(playlist.actorId, { headers: AP }).then((r) => r.json())) as Record<string, any>;
    expect(actor).toMatchObject({ discoverable: true, manuallyApprovesFollowers: false, attributedTo: `${app.url}/actors/alice` });
    expect(actor.summary).toContain("Road mix");
    expect(typeof actor.url === "string" ? actor.url : actor.url.href).toBe(`${app.url}/playlists/${playlist.id}`);
  });

  it("answers 404 for a Note id that names nothing public", async () => {
    const res = await fetch(`${app.url}/federation/notes/${randomUUID()}`, { headers: AP });
    expect(res.status).toBe(404);
    const bad = await fetch(`${app.url}/federation/notes/not-a-uuid`, { headers: AP });
    expect(bad.status).toBe(404);
  });
});
