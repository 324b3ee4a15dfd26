import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTransaction } from "../../core/db/transaction.ts";
import { actorOfKeyId } from "../../core/fediverse/http-signatures.ts";
import { InvalidRemoteAudio } from "../../core/fediverse/remote-audio.ts";
import { applyRemoteAudio, deleteRemoteAudios } from "../../core/fediverse/remote-catalog.ts";
import { RemoteLibraryScanner, type RemoteScanLimits } from "../../core/fediverse/remote-library-scan.ts";
import { outboundPolicy } from "../../core/fediverse/safe-fetch.ts";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { type EventStream, openEventStream } from "../helpers/sse.ts";
import { type AudioSpec, type FakeLibraryServer, startFakeLibraryServer } from "../helpers/fake-library-server.ts";
import { waitUntil } from "../helpers/wait.ts";

// Scans of a followed remote library (issue 16 point 3) against a fake Funkwhale-shaped server that
// checks every GET is signed by the follower's key, as stored in our database.

let app: TestApp;
let remote: FakeLibraryServer;
let alice: TestClient;
let carol: TestClient;
let libraryId: string;
let aliceActorFid: string;
const audios: Record<string, Record<string, unknown>> = {};
/** Alice's and carol's live event streams: the library's music changing is told to its followers only. */
let aliceEvents: EventStream;
let carolEvents: EventStream;
const catalogEvents = (stream: EventStream) => stream.events.filter((e) => e.event === "catalog");

beforeAll(async () => {
  app = await startTestApp({ worker: true, env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
  const pool = app.db.pool;
  // The first account is the administrator; alice and carol are not (alice's scans are throttled).
  expect((await new TestClient(app.url).signup("operator")).status).toBe(201);
  alice = new TestClient(app.url);
  carol = new TestClient(app.url);
  await alice.signup("alice");
  await carol.signup("carol");
  remote = await startFakeLibraryServer({
    publicKeyOf: async (keyId) =>
      (await pool.query("SELECT rsa_public_jwk FROM actor WHERE fid = $1 AND is_local", [actorOfKeyId(keyId)])).rows[0]?.rsa_public_jwk ?? null,
  });
  // Alice follows Bob's library on the remote server, and Bob accepted.
  const bob = randomUUID();
  await pool.query(
    `INSERT INTO actor (id, fid, type, username, domain, is_local, inbox_url) VALUES ($1, $2, 'Person', 'bob', $3, false, $4)`,
    [bob, remote.actorFid, new URL(remote.origin).host, `${remote.actorFid}/inbox`],
  );
  libraryId = randomUUID();
  await pool.query("INSERT INTO library (id, actor_id, fid, name) VALUES ($1, $2, $3, 'Bob''s music')", [libraryId, bob, remote.libraryFid]);
  const { rows } = await pool.query("SELECT a.id, a.fid FROM actor a JOIN app_user u ON u.actor_id = a.id WHERE u.username = 'alice'");
  aliceActorFid = rows[0].fid;
  await pool.query("INSERT INTO follow (id, fid, follower_id, library_id, state) VALUES ($1, $2, $3, $4, 'accepted')", [
    randomUUID(),
    `${TEST_ORIGIN}/actors/alice#follows/${randomUUID()}`,
    rows[0].id,
    libraryId,
  ]);
  // Alice has "Shared Album" here too: its first track is the same as the remote's.
  const local = (await alice.post("/api/v1/libraries", { name: "Mine" })).body.id;
  await seedTracks(app, local, [
    { tags: { TITLE: "Common Ground", ARTIST: "Common Artist", ALBUMARTIST: "Common Artist", ALBUM: "Shared Album", TRACKNUMBER: "1", DATE: "2020" } },
  ]);
  [aliceEvents, carolEvents] = await Promise.all([openEventStream(alice), openEventStream(carol)]);
});
afterAll(async () => {
  aliceEvents?.close();
  carolEvents?.close();
  await app?.close();
  await remote?.close();
});

const add = (key: string, spec: AudioSpec) => (audios[key] = remote.audio(spec));
const titles = (body: { items: { title: string }[] }) => body.items.map((i) => i.title).sort();
const scanOf = async () => (await alice.get(`/api/v1/libraries/${libraryId}`)).body.remoteScan;
const count = async (table: string) => Number((await app.db.pool.query(`SELECT count(*) FROM ${table}`)).rows[0].count);
const catalogCounts = async () => ({
  uploads: await count("upload"),
  tracks: await count("track"),
  albums: await count("album"),
  artists: await count("artist"),
  credits: await count("artist_credit"),
});
const remoteUploads = async () =>
  (await app.db.pool.query("SELECT u.fid, t.title, u.duration_ms FROM upload u JOIN track t ON t.id = u.track_id WHERE u.library_id = $1", [libraryId])).rows;

function scanner(limits: Partial<RemoteScanLimits> = {}) {
  return new RemoteLibraryScanner({ pool: app.db.pool, orm: app.db.orm, policy: outboundPolicy(app.config), uploads: app.deps.uploads, limits });
}
const rescan = (limits?: Partial<RemoteScanLimits>) => scanner(limits).run(libraryId, { force: true });
async function latestScan() {
  const { rows } = await app.db.pool.query("SELECT * FROM remote_scan WHERE library_id = $1 ORDER BY created_at DESC LIMIT 1", [libraryId]);
  return rows[0];
}

describe("a full scan", () => {
  it("asked for by a follower, walks first and next signed as them and shows the tracks to followers only", async () => {
    add("oneFour", { title: "Integer Seconds", artist: "Bob Band", album: "Old Shapes", position: 1, duration: 228 });
    add("twoZero", { title: "String Duration", artist: "Bob Band", album: "New Shapes", position: 1, duration: "PT3M48S", v2: true, mediaType: "audio/x-m4a" });
    add("common", { title: "Common Ground", artist: "Common Artist", album: "Shared Album", position: 1, duration: 180 });
    add("far", { title: "Far Away", artist: "Common Artist", album: "Shared Album", position: 2, duration: 190 });
    remote.items = [audios.oneFour!, audios.twoZero!, audios.common!, audios.far!];
    remote.pageSize = 2;

    const asked = await alice.post(`/api/v1/libraries/${libraryId}/scan`);
    expect(asked.status).toBe(202);
    expect(asked.body.scan).toMatchObject({ status: "queued" });
    const scan = await waitUntil(async () => {
      const s = await scanOf();
      return ["finished", "errored"].includes(s?.status) && s;
    }, { what: "the scan job to end" });
    expect(scan).toMatchObject({ status: "finished", reason: null, pages: 2, itemsSeen: 4, itemsAdded: 4, itemsRemoved: 0 });

    // The Library document, then page 1 and page 2 (from `next`); never `last`; all signed by alice. (Album
    // covers are fetched after the walk, signed as alice too.)
    const documents = remote.requests.filter((r) => !r.path.startsWith("/media/"));
    expect(documents.map((r) => r.path)).toEqual([
      new URL(remote.libraryFid).pathname,
      new URL(remote.pageUrl(1)).pathname + "?page=1",
      new URL(remote.pageUrl(2)).pathname + "?page=2",
    ]);
    expect(remote.requests.every((r) => r.verified && r.keyId === `${aliceActorFid}#main-key`)).toBe(true);

    expect(titles((await alice.get("/api/v1/tracks")).body)).toEqual(["Common Ground", "Far Away", "Integer Seconds", "String Duration"]);
    expect(titles((await carol.get("/api/v1/tracks")).body)).toEqual([]);
    expect((await alice.get("/api/v1/search?q=far%20away")).body.tracks.map((t: { title: string }) => t.title)).toEqual(["Far Away"]);
    expect((await carol.get("/api/v1/search?q=far%20away")).body.tracks).toEqual([]);
    expect((await carol.get(`/api/v1/libraries/${libraryId}`)).status).toBe(404);
    // Alice's open pages are told to read the catalog again; carol's are not.
    expect((await aliceEvents.waitFor((e) => e.event === "catalog")).data).toEqual({ libraryId });
    expect(catalogEvents(carolEvents)).toEqual([]);
  });

  it("stores remote uploads with their source, durations read from integers and ISO 8601 strings", async () => {
    const { rows } = await app.db.pool.query(
      `SELECT fid, storage, path, source_url, status, duration_ms, bitrate, size, mime_type FROM upload WHERE library_id = $1 ORDER BY fid`,
      [libraryId],
    );
    expect(rows).toHaveLength(4);
    const byFid = new Map(rows.map((r) => [r.fid, r]));
    expect(byFid.get(audios.oneFour!.id)).toMatchObject({ storage: "remote", path: null, status: "finished", duration_ms: 228_000, bitrate: 192_000, mime_type: "audio/mpeg" });
    expect(byFid.get(audios.oneFour!.id).source_url).toBe((audios.oneFour!.url as { href: string }[])[0]!.href);
    expect(byFid.get(audios.twoZero!.id)).toMatchObject({ duration_ms: 228_000, mime_type: "audio/mp4" });
    expect(byFid.get(audios.twoZero!.id).source_url).toBe((audios.twoZero!.url as { href: string }).href);
  });

  it("matches a remote album that is also here into one album with both copies, and labels only what it created", async () => {
    const albums = (await alice.get("/api/v1/albums")).body.items.map((a: { title: string }) => a.title).sort();
    expect(albums).toEqual(["New Shapes", "Old Shapes", "Shared Album"]);
    const { rows } = await app.db.pool.query(
      `SELECT t.title, t.fid AS track_fid, a.fid AS album_fid, a.cover_source_url, ar.fid AS artist_fid, count(u.id)::int AS copies
       FROM track t JOIN album a ON a.id = t.album_id JOIN artist ar ON ar.id = t.artist_id JOIN upload u ON u.track_id = t.id
       GROUP BY t.id, a.id, ar.id ORDER BY t.title`,
    );
    const track = (title: string) => rows.find((r) => r.title === title);
    // Common Ground: one track, the local copy and the remote one; the local rows keep their identity.
    expect(track("Common Ground")).toMatchObject({ copies: 2, track_fid: null, album_fid: null, artist_fid: null, cover_source_url: null });
    // Far Away: a new track on the local album.
    expect(track("Far Away")).toMatchObject({ copies: 1, album_fid: null, track_fid: (audios.far!.track as { id: string }).id });
    // What only the remote has carries its ids and its cover URL.
    const oneFourTrack = audios.oneFour!.track as { id: string; album: { id: string; image: { url: string } }; artists: { id: string }[] };
    expect(track("Integer Seconds")).toMatchObject({
      copies: 1,
      track_fid: oneFourTrack.id,
      album_fid: oneFourTrack.album.id,
      artist_fid: oneFourTrack.artists[0]!.id,
      cover_source_url: oneFourTrack.album.image.url,
    });
  });

  it("is not asked for again within 10 minutes by a follower who is not an administrator", async () => {
    const again = await alice.post(`/api/v1/libraries/${libraryId}/scan`);
    expect(again.status).toBe(429);
    expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(500);
    expect(again.body.error.code).toBe("scan_too_soon");
  });
});

describe("rescans", () => {
  it("are idempotent: the same pages change nothing", async () => {
    const before = await catalogCounts();
    const told = catalogEvents(aliceEvents).length;
    const outcome = await rescan();
    expect(outcome.kind).toBe("finished");
    expect(await latestScan()).toMatchObject({ status: "finished", items_seen: 4, items_added: 0, items_updated: 0, items_removed: 0 });
    expect(await catalogCounts()).toEqual(before);
    expect(catalogEvents(aliceEvents).length).toBe(told);
  });

  it("update a changed Audio in place: its track keeps its id, even renamed and moved to a renamed album", async () => {
    const before = await catalogCounts();
    const trackIdOf = async () =>
      (await app.db.pool.query("SELECT track_id FROM upload WHERE fid = $1", [audios.twoZero!.id])).rows[0].track_id as string;
    const trackId = await trackIdOf();
    await alice.request("PUT", `/api/v1/favorites/tracks/${trackId}`);
    const track = audios.twoZero!.track as { name: string; album: { name: string } };
    track.name = "String Duration (remastered)";
    track.album.name = "Newer Shapes";
    audios.twoZero!.updated = "2025-01-01T00:00:00Z";
    expect((await rescan()).kind).toBe("finished");
    expect(await latestScan()).toMatchObject({ items_added: 0, items_updated: 1, items_removed: 0 });
    const listed = (await alice.get("/api/v1/tracks")).body.items.find((t: { title: string }) => t.title === "String Duration (remastered)");
    expect(listed).toMatchObject({ id: trackId, album: { title: "Newer Shapes" }, favorite: true });
    expect(titles((await alice.get("/api/v1/tracks")).body)).not.toContain("String Duration");
    // The emptied album is gone; the new one carries the remote's id again.
    const albums = (await app.db.pool.query("SELECT title, fid FROM album WHERE title LIKE '%Shapes' ORDER BY title")).rows;
    expect(albums).toEqual([
      { title: "Newer Shapes", fid: (audios.twoZero!.track as { album: { id: string } }).album.id },
      { title: "Old Shapes", fid: (audios.oneFour!.track as { album: { id: string } }).album.id },
    ]);
    expect(await catalogCounts()).toEqual(before);
  });

  it("remove the uploads whose Audio vanished, and what only they held", async () => {
    remote.items = remote.items.filter((item) => item !== audios.far);
    const told = catalogEvents(aliceEvents).length;
    expect((await rescan()).kind).toBe("finished");
    await waitUntil(() => catalogEvents(aliceEvents).length > told || undefined, { what: "the catalog event of the removal" });
    expect(await latestScan()).toMatchObject({ items_seen: 3, items_removed: 1 });
    expect(titles((await alice.get("/api/v1/tracks")).body)).not.toContain("Far Away");
    expect((await app.db.pool.query("SELECT 1 FROM track WHERE title = 'Far Away'")).rowCount).toBe(0);
    // The shared album stays: its first track has both copies still.
    expect((await alice.get("/api/v1/albums")).body.items.map((a: { title: string }) => a.title)).toContain("Shared Album");
  });

  it("are queued for followed libraries by the daily cron, unless one is recent or waiting", async () => {
    expect(await app.deps.remoteScans.enqueueScheduled()).toBe(0);
    await app.db.pool.query("UPDATE remote_scan SET finished_at = now() - interval '2 days' WHERE library_id = $1", [libraryId]);
    expect(await app.deps.remoteScans.enqueueScheduled()).toBe(1);
    expect(await app.deps.remoteScans.enqueueScheduled()).toBe(0);
    // The worker runs it (unforced: nothing finished within 10 minutes).
    const recent = "SELECT 1 FROM remote_scan WHERE library_id = $1 AND status = 'finished' AND finished_at > now() - interval '1 minute'";
    await waitUntil(async () => (await app.db.pool.query(recent, [libraryId])).rowCount === 1, { what: "the scheduled scan" });
    expect(await latestScan()).toMatchObject({ items_seen: 3, items_added: 0, items_updated: 0, items_removed: 0 });
  });
});

describe("folder scans (REST, Subsonic startScan and getScanStatus)", () => {
  it("leave remote libraries alone", async () => {
    const { rows } = await app.db.pool.query("SELECT id FROM app_user WHERE username = 'operator'");
    const operator = { id: rows[0].id as string, role: "admin" as const };
    expect((await app.db.pool.query("SELECT last_scan_at FROM library WHERE id = $1", [libraryId])).rows[0].last_scan_at).not.toBeNull();
    expect(await app.deps.scans.overview(operator)).toMatchObject({ scanning: false, lastScanAt: null });
    expect(await app.deps.scans.enqueueAllOf(operator)).toBe(0);
    expect(await app.deps.scans.musicFolderOf(libraryId)).toBeNull();
  });
});

describe("failures end the scan errored with a reason, and leave whole pages", () => {
  const errored = async (pattern: RegExp, limits?: Partial<RemoteScanLimits>) => {
    const outcome = await rescan(limits);
    expect(outcome).toMatchObject({ kind: "errored" });
    expect((outcome as { reason: string }).reason).toMatch(pattern);
    return outcome;
  };

  it("a refusal (403): is the follow still accepted?", async () => {
    remote.overrides.set(new URL(remote.libraryFid).pathname, () => ({ status: 403, body: { detail: "You do not have permission." } }));
    try {
      await errored(/^The library refused \(HTTP 403\): is your follow still accepted\?/);
    } finally {
      remote.overrides.clear();
    }
    // The library page shows why.
    expect(await scanOf()).toMatchObject({ status: "errored", reason: expect.stringMatching(/follow still accepted/) });
  });

  it("a loop in `next`", async () => {
    remote.pageHook = (n, page) => (n === 2 ? { ...page, next: remote.pageUrl(1) } : page);
    try {
      await errored(/pages loop: .*page=1 came twice/);
    } finally {
      remote.pageHook = null;
    }
  });

  it("a page on another server", async () => {
    const elsewhere = remote.pageUrl(2).replace("127.0.0.1", "localhost");
    remote.pageHook = (n, page) => (n === 1 ? { ...page, next: elsewhere } : page);
    try {
      await errored(/A page of the library is on another server/);
    } finally {
      remote.pageHook = null;
    }
    expect(remote.requests.some((r) => r.path.includes("localhost"))).toBe(false);
  });

  it("an item of another server, and nothing of its page written", async () => {
    const before = await catalogCounts();
    const foreign = { ...remote.audio({ title: "Stolen", artist: "Mallory", album: "Elsewhere" }), id: "https://elsewhere.example/federation/music/uploads/1" };
    const fresh = remote.audio({ title: "Fresh", artist: "Bob Band", album: "Old Shapes", position: 2 });
    remote.items = [fresh, foreign, ...remote.items];
    try {
      await errored(/not on the library's server/);
    } finally {
      remote.items = remote.items.filter((item) => item !== fresh && item !== foreign);
    }
    expect(await catalogCounts()).toEqual(before);
  });

  it("an oversize document", async () => {
    remote.pageHook = (n, page) => (n === 1 ? { ...page, summary: "x".repeat(3 * 1024 * 1024) } : page);
    try {
      await errored(/larger than 2 MiB/);
    } finally {
      remote.pageHook = null;
    }
  });

  it("too many items on a page", async () => {
    const before = await catalogCounts();
    const many = Array.from({ length: 201 }, (_, n) => remote.audio({ title: `Filler ${n}`, artist: "Bob Band", album: "Filler" }));
    const kept = remote.items;
    remote.items = many;
    remote.pageSize = 201;
    try {
      await errored(/lists 201 items, more than the 200/);
    } finally {
      remote.items = kept;
      remote.pageSize = 2;
    }
    expect(await catalogCounts()).toEqual(before);
  });

  it("too many pages", async () => {
    await errored(/more than 1 pages/, { maxPages: 1 });
  });

  it("a server failing mid-walk: earlier pages kept whole, nothing removed", async () => {
    const newcomer = remote.audio({ title: "Newcomer", artist: "Bob Band", album: "Old Shapes", position: 3 });
    const kept = remote.items;
    // Page 1 holds the newcomer and one known item; page 2 (the other known ones) fails.
    remote.items = [newcomer, ...kept];
    remote.overrides.set(new URL(remote.pageUrl(2)).pathname + "?page=2", () => ({ status: 500, body: { detail: "Server error" } }));
    try {
      await errored(/failed \(HTTP 500\)/);
    } finally {
      remote.overrides.clear();
    }
    expect(await latestScan()).toMatchObject({ status: "errored", pages: 1, items_added: 1, items_removed: 0 });
    const titlesHere = (await remoteUploads()).map((u) => u.title).sort();
    expect(titlesHere).toEqual(["Common Ground", "Integer Seconds", "Newcomer", "String Duration (remastered)"]);
  });

  it("no accepted follower left to sign", async () => {
    await app.db.pool.query("UPDATE follow SET state = 'rejected' WHERE library_id = $1", [libraryId]);
    try {
      await errored(/No one here follows this library with an accepted follow/);
    } finally {
      await app.db.pool.query("UPDATE follow SET state = 'accepted' WHERE library_id = $1", [libraryId]);
    }
  });
});

describe("live sync's functions", () => {
  it("apply one Audio idempotently and delete by Audio ids", async () => {
    const live = remote.audio({ title: "Live Single", artist: "Bob Band", album: "Singles" });
    const db = { pool: app.db.pool, orm: app.db.orm };
    expect(await withTransaction(db, ({ sql }) => applyRemoteAudio(sql, libraryId, live))).toBe("added");
    expect(await withTransaction(db, ({ sql }) => applyRemoteAudio(sql, libraryId, live))).toBe("unchanged");
    expect(titles((await alice.get("/api/v1/tracks")).body)).toContain("Live Single");
    const foreign = { ...live, id: "https://elsewhere.example/federation/music/uploads/2" };
    await expect(withTransaction(db, ({ sql }) => applyRemoteAudio(sql, libraryId, foreign))).rejects.toThrow(InvalidRemoteAudio);
    expect(await withTransaction(db, ({ sql }) => deleteRemoteAudios(sql, app.deps.uploads, libraryId, [live.id as string]))).toBe(1);
    expect(titles((await alice.get("/api/v1/tracks")).body)).not.toContain("Live Single");
  });
});
