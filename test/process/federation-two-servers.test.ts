import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signatureHeaders } from "../../core/fediverse/http-signatures.ts";
import { hasFfmpeg, makeAudio, makeCoverImage } from "../fixtures/audio.ts";
import { TestClient } from "../helpers/client.ts";
import { type PolyphonyProcess, startPolyphonyProcess } from "../helpers/polyphony-process.ts";
import { sleep, waitUntil } from "../helpers/wait.ts";
import { rest, tokenParams } from "../subsonic/helpers.ts";

// Issue 16, end to end: two real servers (two processes, each with its own embedded PostgreSQL, data
// folder and port). A person on B follows a private library of a person on A; A's owner approves; B scans
// it; its tracks play on B; A's changes reach B without a rescan; revoking and unfollowing take it away.

let a: PolyphonyProcess;
let b: PolyphonyProcess;
let alice: TestClient; // owns the library on A
let bob: TestClient; // follows it from B
let dave: TestClient; // follows it from B too, until he unfollows
let carol: TestClient; // on B, follows nothing
let dir: string;
let library: { id: string; url: string };
const files: Record<string, Buffer> = {};

const sha = (bytes: Buffer | Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const tracksOf = async (client: TestClient) => (await client.get("/api/v1/tracks?limit=100")).body.items as { id: string; title: string }[];
const titlesOf = async (client: TestClient) => (await tracksOf(client)).map((t) => t.title).sort();
const remoteLibraryOf = async (client: TestClient) =>
  ((await client.get("/api/v1/federation/follows")).body.items as { id: string; state: string; library: { id: string } }[]).find(Boolean);

async function upload(name: string, tags: Record<string, string>, format: "mp3" | "flac" = "mp3", cover?: Buffer) {
  const file = await makeAudio(dir, { name, format, tags, cover });
  files[tags.TITLE!] = await readFile(file);
  const res = await alice.upload(`/api/v1/libraries/${library.id}/uploads`, [{ name: path.basename(file), data: files[tags.TITLE!]! }]);
  expect(res.status).toBe(201);
}

beforeAll(async () => {
  if (!hasFfmpeg()) return;
  dir = await mkdtemp(path.join(os.tmpdir(), "polyphony-fed-files-"));
  [a, b] = await Promise.all([startPolyphonyProcess("a"), startPolyphonyProcess("b")]);
  alice = new TestClient(a.url);
  await alice.signup("alice");
  bob = new TestClient(b.url);
  await bob.signup("bob");
  dave = new TestClient(b.url);
  await dave.signup("dave");
  carol = new TestClient(b.url);
  await carol.signup("carol");
  const created = (await alice.post("/api/v1/libraries", { name: "Alice's records", privacy: "private" })).body;
  library = { id: created.id, url: `${a.url}/libraries/${created.id}` };
  await upload("one", { TITLE: "One", ARTIST: "The Band", ALBUM: "First Record", TRACKNUMBER: "1" }, "mp3", await makeCoverImage(800, 800, "jpeg"));
  await upload("two", { TITLE: "Two", ARTIST: "The Band", ALBUM: "First Record", TRACKNUMBER: "2" }, "flac");
  await waitUntil(async () => (await titlesOf(alice)).length === 2 || undefined, { what: "A's imports", timeout: 60_000 });
}, 240_000);
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!hasFfmpeg())("two Polyphony servers", () => {
  it("bob finds the private library by its web page's URL and asks to follow it; alice approves", async () => {
    const preview = await bob.get(`/api/v1/federation/lookup?q=${encodeURIComponent(library.url)}`);
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ name: "Alice's records", totalItems: 2 });

    const followed = await bob.post("/api/v1/federation/follows", { target: library.url });
    expect(followed.status).toBeLessThan(300);
    expect((await remoteLibraryOf(bob))?.state).toBe("pending");
    // Nothing is visible before the owner approves.
    expect(await titlesOf(bob)).toEqual([]);

    const pending = await waitUntil(async () => {
      const items = (await alice.get(`/api/v1/libraries/${library.id}/followers`)).body.items as { id: string; state: string }[];
      return items.find((f) => f.state === "pending");
    }, { what: "bob's follow request on A" });
    expect((await alice.post(`/api/v1/libraries/${library.id}/followers/${pending.id}/approve`)).status).toBeLessThan(300);
    await waitUntil(async () => (await remoteLibraryOf(bob))?.state === "accepted" || undefined, { what: "the Accept on B" });
  });

  it("B scans it: bob sees alice's tracks, carol sees nothing", async () => {
    await waitUntil(async () => (await titlesOf(bob)).length === 2 || undefined, { what: "B's scan", timeout: 60_000 });
    expect(await titlesOf(bob)).toEqual(["One", "Two"]);
    expect(await titlesOf(carol)).toEqual([]);
    // The album's cover was fetched with the scan: album lists name it.
    const album = await waitUntil(async () => {
      const items = (await bob.get("/api/v1/albums")).body.items as { title: string; coverUrl: string | null }[];
      return items.find((a) => a.title === "First Record" && a.coverUrl);
    }, { what: "the remote album's cover" });
    const cover = await fetch(new URL(album.coverUrl!, b.url), { headers: { cookie: bob.cookie! } });
    expect(cover.status).toBe(200);
    expect(cover.headers.get("content-type")).toMatch(/^image\//);
    // Subsonic apps too: the followed library is a music folder of bob's.
    const creds = (await bob.get("/api/v1/me/subsonic")).body;
    const folders = await rest(b.url, "getMusicFolders", { ...tokenParams(creds), f: "json" });
    expect(JSON.stringify(folders.json)).toContain("Alice's records");
  });

  it("a remote track streams on B: the same bytes, Range works, and the second play comes from B's cache", async () => {
    const one = (await tracksOf(bob)).find((t) => t.title === "One")!;
    const first = await fetch(`${b.url}/api/v1/tracks/${one.id}/stream`, { headers: { cookie: bob.cookie! } });
    expect(first.status).toBe(200);
    expect(sha(Buffer.from(await first.arrayBuffer()))).toBe(sha(files.One!));

    await waitUntil(async () => (await b.pool.query("SELECT cached_path FROM upload WHERE cached_path IS NOT NULL")).rowCount! > 0 || undefined, {
      what: "the cached copy",
    });
    // A is stopped from answering anything: the cached copy is all B may use now.
    a.process.child.kill("SIGSTOP");
    try {
      const ranged = await fetch(`${b.url}/api/v1/tracks/${one.id}/stream`, { headers: { cookie: bob.cookie!, range: "bytes=10-99" } });
      expect(ranged.status).toBe(206);
      expect(Buffer.from(await ranged.arrayBuffer())).toEqual(files.One!.subarray(10, 100));
    } finally {
      a.process.child.kill("SIGCONT");
    }
  });

  it("a new upload on A appears on B without a rescan", async () => {
    await upload("three", { TITLE: "Three", ARTIST: "The Band", ALBUM: "First Record", TRACKNUMBER: "3" });
    await waitUntil(async () => (await titlesOf(bob)).includes("Three") || undefined, { what: "the Create(Audio) on B", timeout: 60_000 });
  });

  it("a deletion on A propagates to B", async () => {
    const two = (await a.pool.query("SELECT u.id FROM upload u JOIN track t ON t.id = u.track_id WHERE t.title = 'Two'")).rows[0].id as string;
    expect((await alice.request("DELETE", `/api/v1/uploads/${two}`)).status).toBe(204);
    await waitUntil(async () => !(await titlesOf(bob)).includes("Two") || undefined, { what: "the Delete(Audio) on B" });
    expect(await titlesOf(bob)).toEqual(["One", "Three"]);
  });

  it("a metadata edit on A (a file re-tagged in its music folder) reaches B as an Update", async () => {
    const folder = path.join(dir, "folder");
    await mkdir(folder, { recursive: true });
    const tags = { TITLE: "Four", ARTIST: "The Band", ALBUM: "First Record", TRACKNUMBER: "4" };
    await makeAudio(folder, { name: "four", format: "ogg", tags });
    expect((await alice.request("PATCH", `/api/v1/libraries/${library.id}`, { json: { musicFolder: folder } })).status).toBe(200);
    await alice.post(`/api/v1/libraries/${library.id}/scan`);
    await waitUntil(async () => (await titlesOf(bob)).includes("Four") || undefined, { what: "the folder's track on B", timeout: 60_000 });
    const copyOf = async (title: string) =>
      (await b.pool.query("SELECT u.id, u.fid FROM upload u JOIN track t ON t.id = u.track_id WHERE t.title = $1", [title])).rows[0];
    const before = await copyOf("Four");

    // Re-tagged in place (a later modification time), then the folder is scanned again.
    await sleep(1100);
    await makeAudio(folder, { name: "four", format: "ogg", tags: { ...tags, TITLE: "Four (remastered)" } });
    await alice.post(`/api/v1/libraries/${library.id}/scan`);
    await waitUntil(async () => (await titlesOf(bob)).includes("Four (remastered)") || undefined, { what: "the Update(Audio) on B", timeout: 60_000 });
    expect(await titlesOf(bob)).toEqual(["Four (remastered)", "One", "Three"]);
    // The same copy on B (the same Audio, updated in place), not a second one.
    expect(await copyOf("Four (remastered)")).toEqual(before);
  });

  it("revoking bob removes his access on both sides: B hides it, A refuses his signed requests", async () => {
    // dave follows too, and is approved.
    await dave.post("/api/v1/federation/follows", { target: library.url });
    const daves = await waitUntil(async () => {
      const items = (await alice.get(`/api/v1/libraries/${library.id}/followers`)).body.items as { id: string; state: string }[];
      return items.find((f) => f.state === "pending");
    }, { what: "dave's follow request" });
    await alice.post(`/api/v1/libraries/${library.id}/followers/${daves.id}/approve`);
    await waitUntil(async () => (await titlesOf(dave)).length === 3 || undefined, { what: "dave sees the tracks" });

    const bobs = ((await alice.get(`/api/v1/libraries/${library.id}/followers`)).body.items as { id: string; state: string; actor: { fid?: string; id?: string } }[]).find(
      (f) => f.state === "accepted" && JSON.stringify(f).includes("/actors/bob"),
    )!;
    expect((await alice.post(`/api/v1/libraries/${library.id}/followers/${bobs.id}/reject`)).status).toBeLessThan(300);
    await waitUntil(async () => (await titlesOf(bob)).length === 0 || undefined, { what: "B to hide the library from bob" });
    expect((await titlesOf(dave)).length).toBe(3);

    // Bob's own key, as B would sign with it: A refuses the pages and the audio.
    const key = (await b.pool.query("SELECT fid, rsa_private_jwk FROM actor WHERE username = 'bob' AND is_local")).rows[0];
    const collection = `${a.url}/federation/libraries/${library.id}?page=1`;
    const signed = (url: string) =>
      fetch(url, { headers: { accept: "application/activity+json", ...signatureHeaders("GET", new URL(url), { keyId: `${key.fid}#main-key`, privateJwk: key.rsa_private_jwk }) } });
    expect((await signed(collection)).status).toBe(404);
    const audioUrl = (await a.pool.query("SELECT id FROM upload LIMIT 1")).rows[0].id as string;
    expect((await signed(`${a.url}/federation/media/${audioUrl}`)).status).toBe(404);
  });

  it("when the last follower on B unfollows, B drops the remote library and its copies", async () => {
    const follow = await remoteLibraryOf(dave);
    expect((await dave.request("DELETE", `/api/v1/federation/follows/${follow!.id}`)).status).toBe(204);
    await waitUntil(async () => (await b.pool.query("SELECT count(*)::int AS n FROM upload WHERE storage = 'remote'")).rows[0].n === 0 || undefined, {
      what: "B to drop the remote copies",
    });
    expect(await titlesOf(dave)).toEqual([]);
    // A hears of it: dave is no longer among alice's followers.
    await waitUntil(async () => {
      const items = (await alice.get(`/api/v1/libraries/${library.id}/followers`)).body.items as unknown[];
      return !JSON.stringify(items).includes("/actors/dave") || undefined;
    }, { what: "the Undo on A" });
  });
});
