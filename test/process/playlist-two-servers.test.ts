import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { TestClient } from "../helpers/client.ts";
import { type PolyphonyProcess, startPolyphonyProcess } from "../helpers/polyphony-process.ts";
import { waitUntil } from "../helpers/wait.ts";
import { rest, tokenParams } from "../subsonic/helpers.ts";

// Issue 17, points 1 and 7, end to end: two real servers (two processes, each with its own embedded
// PostgreSQL and port). Bob on B follows alice's public playlist on A, whose tracks live in her private
// library; items added and removed on A show on B; a track of it plays on B (REST and Subsonic).

let a: PolyphonyProcess;
let b: PolyphonyProcess;
let alice: TestClient;
let bob: TestClient;
let dir: string;
let playlist: { id: string; actorId: string };
const files: Record<string, Buffer> = {};
const trackIds: Record<string, string> = {};

const sha = (bytes: Buffer | Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const followed = async () => ((await bob.get("/api/v1/playlists")).body.items as { id: string; readOnly: boolean; name: string }[]).find((p) => p.readOnly);
const titlesOnB = async (id: string) => ((await bob.get(`/api/v1/playlists/${id}`)).body.items as { title: string }[]).map((i) => i.title);

beforeAll(async () => {
  if (!hasFfmpeg()) return;
  dir = await mkdtemp(path.join(os.tmpdir(), "polyphony-playlist-fed-"));
  [a, b] = await Promise.all([startPolyphonyProcess("a"), startPolyphonyProcess("b")]);
  alice = new TestClient(a.url);
  await alice.signup("alice");
  bob = new TestClient(b.url);
  await bob.signup("bob");
  const library = (await alice.post("/api/v1/libraries", { name: "Alice's records", privacy: "private" })).body;
  for (const [n, title] of ["One", "Two", "Three"].entries()) {
    const file = await makeAudio(dir, { name: title.toLowerCase(), format: "mp3", tags: { TITLE: title, ARTIST: "The Band", ALBUM: "Mix Sources", TRACKNUMBER: String(n + 1) } });
    files[title] = await readFile(file);
    expect((await alice.upload(`/api/v1/libraries/${library.id}/uploads`, [{ name: path.basename(file), data: files[title] }])).status).toBe(201);
  }
  await waitUntil(async () => {
    const items = (await alice.get("/api/v1/tracks?limit=10")).body.items as { id: string; title: string }[];
    return items.length === 3 ? items : undefined;
  }, { what: "A's imports", timeout: 60_000 }).then((items) => items.forEach((t) => (trackIds[t.title] = t.id)));
  playlist = (await alice.post("/api/v1/playlists", { name: "Friday mix", privacy: "public" })).body;
  await alice.post(`/api/v1/playlists/${playlist.id}/items`, { trackIds: [trackIds.One, trackIds.Two] });
}, 240_000);
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!hasFfmpeg())("a playlist followed across two Polyphony servers", () => {
  it("bob follows it by handle and B shows it read-only, in order", async () => {
    const handle = `@${new URL(playlist.actorId).pathname.split("/").pop()}@${new URL(a.url).host}`;
    const res = await bob.post("/api/v1/federation/follows", { target: handle });
    expect(res.status).toBe(201);
    const listed = await waitUntil(followed, { what: "the playlist on B", timeout: 60_000 });
    expect(listed.name).toBe("Friday mix");
    await waitUntil(async () => (await titlesOnB(listed.id)).join() === "One,Two" || undefined, { what: "its items on B", timeout: 60_000 });
  });

  it("a track of it plays on B with alice's bytes, through REST and Subsonic", async () => {
    const listed = (await followed())!;
    const items = (await bob.get(`/api/v1/playlists/${listed.id}`)).body.items as { title: string; trackId: string }[];
    const two = items.find((i) => i.title === "Two")!;
    const streamed = await fetch(`${b.url}/api/v1/tracks/${two.trackId}/stream`, { headers: { cookie: bob.cookie! } });
    expect(streamed.status).toBe(200);
    expect(sha(Buffer.from(await streamed.arrayBuffer()))).toBe(sha(files.Two!));

    const creds = (await bob.get("/api/v1/me/subsonic")).body;
    const lists = await rest(b.url, "getPlaylists", { ...tokenParams(creds), f: "json" });
    expect(lists.json.playlists.playlist).toEqual([expect.objectContaining({ id: listed.id, name: "Friday mix", readonly: true, songCount: 2 })]);
    const one = await rest(b.url, "getPlaylist", { ...tokenParams(creds), f: "json", id: listed.id });
    const song = one.json.playlist.entry.find((e: { title: string }) => e.title === "One");
    const stream = await rest(b.url, "stream", { ...tokenParams(creds), id: song.id, format: "raw" });
    expect(stream.status).toBe(200);
    expect(sha(stream.bytes)).toBe(sha(files.One!));
  });

  it("items added and removed on A show on B live", async () => {
    const listed = (await followed())!;
    expect((await alice.post(`/api/v1/playlists/${playlist.id}/items`, { trackIds: [trackIds.Three] })).status).toBe(201);
    await waitUntil(async () => (await titlesOnB(listed.id)).join() === "One,Two,Three" || undefined, { what: "the added item on B", timeout: 60_000 });
    const onA = (await alice.get(`/api/v1/playlists/${playlist.id}`)).body.items as { id: string; title: string }[];
    expect((await alice.request("DELETE", `/api/v1/playlists/${playlist.id}/items/${onA.find((i) => i.title === "One")!.id}`)).status).toBe(204);
    await waitUntil(async () => (await titlesOnB(listed.id)).join() === "Two,Three" || undefined, { what: "the removal on B", timeout: 60_000 });
    expect(await titlesOnB(listed.id)).toEqual(["Two", "Three"]);
  });

  it("deleting it on A drops it on B", async () => {
    expect((await alice.request("DELETE", `/api/v1/playlists/${playlist.id}`)).status).toBe(204);
    await waitUntil(async () => (await followed()) === undefined || undefined, { what: "B to drop the playlist", timeout: 60_000 });
    expect((await b.pool.query("SELECT count(*)::int AS n FROM upload WHERE storage = 'remote'")).rows[0].n).toBe(0);
  });
});
