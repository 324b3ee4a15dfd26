import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio, makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";

const MISSING = "00000000-0000-4000-8000-000000000000";
/** Headers that differ between any two answers, whatever they say. */
const VARYING = new Set(["date", "x-request-id", "keep-alive", "connection"]);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Status, headers and body text; `hidden` is written as MISSING so that an answer naming its id compares equal. */
async function answer(
  client: TestClient, method: string, url: string, init: { json?: unknown; body?: string | FormData; headers?: Record<string, string> } = {}, hidden?: string,
): Promise<Answer> {
  const response = await client.request(method, url, init);
  // Express's ETag is a hash of the body, which is compared itself (and may name the id).
  const headers = Object.fromEntries([...response.headers].filter(([name]) => !VARYING.has(name))
    .map(([name, value]) => [name, name === "etag" ? "(hash of the body)" : value]));
  const text = typeof response.body === "string" ? response.body : JSON.stringify(response.body);
  return { status: response.status, headers, body: hidden ? text.replaceAll(hidden, MISSING) : text };
}

// No existence oracles over REST: every route taking an id of something that may be private answers
// another user's hidden thing exactly as it answers an id that names nothing (status, headers, body),
// and a write through such an id changes nothing. Music itself (tracks, albums, artists, their covers
// and streams, REST and Subsonic alike) is test/catalog/visibility-surfaces.test.ts; here, what is
// owned: libraries, uploads, import batches, playlists and their items, tokens.
describe.skipIf(!hasFfmpeg())("REST routes given an id of another user's private things", () => {
  let app: TestApp;
  let alice: TestClient;
  let bob: TestClient;
  let dir: string;
  const hidden = { library: "", track: "", album: "", artist: "", upload: "", errored: "", batch: "", playlist: "", item: "", token: "" };
  let bobPlaylist = "";

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    await new TestClient(app.url).signup("olga"); // the first account: an administrator
    alice = new TestClient(app.url);
    bob = new TestClient(app.url);
    await alice.signup("alice");
    await bob.signup("bob");
    hidden.library = (await alice.post("/api/v1/libraries", { name: "Diary", privacy: "private" })).body.id;
    dir = await mkdtemp(path.join(os.tmpdir(), "hidden-rest-"));
    const file = await makeAudio(dir, { name: "secret", format: "mp3", cover: await makeCoverImage(120, 120, "jpeg"),
      tags: { TITLE: "Secret Song", ARTIST: "Alice Alone", ALBUM: "Private Album", GENRE: "Diarycore" } });
    const sent = await alice.upload(`/api/v1/libraries/${hidden.library}/uploads`, [
      { name: "secret.mp3", data: await readFile(file) },
      { name: "notes.mp3", data: Buffer.from("liner notes, not music\n".repeat(40)) },
    ]);
    hidden.batch = sent.body.batchId;
    await waitForImports(app.db.pool, hidden.library);
    const { rows } = await app.db.pool.query(
      `SELECT t.id AS track, t.album_id AS album, a.album_artist_id AS artist, u.id AS upload
       FROM upload u JOIN track t ON t.id = u.track_id JOIN album a ON a.id = t.album_id`);
    Object.assign(hidden, rows[0]);
    hidden.errored = (await app.db.pool.query("SELECT id FROM upload WHERE status = 'errored'")).rows[0].id;
    hidden.playlist = (await alice.post("/api/v1/playlists", { name: "Secret mix", privacy: "private" })).body.id;
    hidden.item = (await alice.post(`/api/v1/playlists/${hidden.playlist}/items`, { trackIds: [hidden.track] })).body.items[0].id;
    hidden.token = (await alice.post("/api/v1/tokens", { name: "phone" })).body.id;
    bobPlaylist = (await bob.post("/api/v1/playlists", { name: "Bob's mix" })).body.id;
  });
  afterAll(async () => {
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  type Kind = keyof typeof hidden;
  type Call = [method: string, url: (id: string) => string, kind: Kind, init?: () => { json?: unknown; body?: FormData }];
  const form = () => {
    const body = new FormData();
    body.append("files", new Blob([new Uint8Array(100)]), "x.mp3");
    return { body };
  };
  const calls: Call[] = [
    ["DELETE", (id) => `/api/v1/albums/${id}`, "album"],
    ["GET", (id) => `/api/v1/libraries/${id}`, "library"],
    ["PATCH", (id) => `/api/v1/libraries/${id}`, "library", () => ({ json: { name: "Mine now" } })],
    ["DELETE", (id) => `/api/v1/libraries/${id}`, "library"],
    ["POST", (id) => `/api/v1/libraries/${id}/scan`, "library"],
    ["GET", (id) => `/api/v1/libraries/${id}/import-status`, "library"],
    ["POST", (id) => `/api/v1/libraries/${id}/uploads`, "library", form],
    ["GET", (id) => `/api/v1/uploads/${id}`, "upload"],
    ["DELETE", (id) => `/api/v1/uploads/${id}`, "upload"],
    ["POST", (id) => `/api/v1/uploads/${id}/retry`, "errored"],
    ["GET", (id) => `/api/v1/uploads?library=${id}`, "library"],
    ["GET", (id) => `/api/v1/uploads?batch=${id}`, "batch"],
    ["GET", (id) => `/api/v1/import-batches/${id}`, "batch"],
    ["GET", (id) => `/api/v1/playlists/${id}`, "playlist"],
    ["PATCH", (id) => `/api/v1/playlists/${id}`, "playlist", () => ({ json: { name: "Mine now" } })],
    ["DELETE", (id) => `/api/v1/playlists/${id}`, "playlist"],
    ["GET", (id) => `/api/v1/playlists/${id}/export`, "playlist"],
    ["POST", (id) => `/api/v1/playlists/${id}/items`, "playlist", () => ({ json: { trackIds: [MISSING] } })],
    ["DELETE", (id) => `/api/v1/playlists/${id}/items`, "playlist"],
    ["DELETE", (id) => `/api/v1/playlists/${id}/items/${hidden.item}`, "playlist"],
    ["POST", (id) => `/api/v1/playlists/${id}/items/${hidden.item}/move`, "playlist", () => ({ json: { position: 0 } })],
    // Through Bob's own playlist: Alice's playlist's item.
    ["DELETE", (id) => `/api/v1/playlists/${bobPlaylist}/items/${id}`, "item"],
    ["POST", (id) => `/api/v1/playlists/${bobPlaylist}/items/${id}/move`, "item", () => ({ json: { position: 0 } })],
    ["DELETE", (id) => `/api/v1/tokens/${id}`, "token"],
  ];

  it("answers each of them exactly as for a missing id, signed in or not", async () => {
    for (const client of [bob, new TestClient(app.url)]) {
      for (const [method, url, kind, init] of calls) {
        // The one call naming the hidden id in its body: compare with the same call naming MISSING.
        const hiddenInit = init?.();
        const missingInit = hiddenInit?.json ? { json: JSON.parse(JSON.stringify(hiddenInit.json).replaceAll(hidden[kind], MISSING)) } : init?.();
        const seen = await answer(client, method, url(hidden[kind]), hiddenInit, hidden[kind]);
        const absent = await answer(client, method, url(MISSING), missingInit);
        const label = `${client === bob ? "bob" : "anonymous"}: ${method} ${url(`<${kind}>`)}`;
        expect(seen, label).toEqual(absent);
        expect(seen.status, label).toBeGreaterThanOrEqual(200);
      }
    }
  });

  it("changed nothing of Alice's through those calls", async () => {
    const count = async (sql: string) => (await app.db.pool.query(sql)).rows[0].n;
    expect(await count("SELECT count(*)::int AS n FROM favorite")).toBe(0);
    expect(await count("SELECT count(*)::int AS n FROM rating")).toBe(0);
    expect(await count("SELECT count(*)::int AS n FROM listen")).toBe(0);
    expect(await count("SELECT count(*)::int AS n FROM playlist_item")).toBe(1);
    expect((await alice.get(`/api/v1/libraries/${hidden.library}`)).body.name).toBe("Diary");
    expect((await alice.get(`/api/v1/playlists/${hidden.playlist}`)).body).toMatchObject({ name: "Secret mix", itemCount: 1 });
    expect((await alice.get(`/api/v1/uploads/${hidden.upload}`)).body.status).toBe("finished");
    expect((await alice.get(`/api/v1/uploads/${hidden.errored}`)).body.status).toBe("errored");
    expect((await alice.get("/api/v1/tokens")).body.items.map((t: { id: string }) => t.id)).toEqual([hidden.token]);
    expect((await bob.get(`/api/v1/playlists/${bobPlaylist}`)).body.itemCount).toBe(0);
  });

  it("lists, searches and counts none of it for others", async () => {
    for (const client of [bob, new TestClient(app.url)]) {
      const search = (await client.get("/api/v1/search?q=secret")).body;
      expect(search).toEqual({ artists: [], albums: [], tracks: [], playlists: [] });
      expect((await client.get("/api/v1/genres")).body.items).toEqual([]);
      for (const kind of ["tracks", "albums", "artists"]) expect((await client.get(`/api/v1/${kind}`)).body.items, kind).toEqual([]);
    }
    expect((await bob.get("/api/v1/playlists?scope=visible")).body.items.map((p: { id: string }) => p.id)).toEqual([bobPlaylist]);
    expect((await bob.get("/api/v1/libraries?scope=visible")).body.items).toEqual([]);
    expect((await bob.get("/api/v1/uploads")).body.total).toBe(0);
  });

  it("serves no ActivityPub actor or WebFinger answer for a private playlist; a private library's actor stays followable", async () => {
    const accept = { headers: { accept: "application/activity+json" } };
    const anonymous = new TestClient(app.url);
    const identifier = (prefix: string, id: string) => `${prefix}.${id.replaceAll("-", "")}`;
    const urls = (name: string) => [`/actors/${name}`, `/.well-known/webfinger?resource=acct:${name}@polyphony.test`];
    const [name, none] = [identifier("pl", hidden.playlist), identifier("pl", MISSING)];
    const [seen, absent] = [urls(name), urls(none)];
    for (const [i, url] of seen.entries()) {
      const shown = await answer(anonymous, "GET", url, accept);
      expect({ ...shown, body: shown.body.replaceAll(name, none) }, url).toEqual(await answer(anonymous, "GET", absent[i]!, accept));
      expect((await anonymous.get(url, accept.headers)).status, url).toBe(404);
    }
    // A signed-looking activity to its inbox (the inbox guard's "an actor we have" is the same rule).
    const follow = (to: string) => ({
      headers: { "content-type": "application/activity+json", signature: 'keyId="https://elsewhere.example/a#k"' },
      body: JSON.stringify({ type: "Follow", actor: "https://elsewhere.example/a", object: `https://polyphony.test/actors/${to}` }),
    });
    const posted = await answer(anonymous, "POST", `/actors/${name}/inbox`, follow(name));
    expect({ ...posted, body: posted.body.replaceAll(name, none) }).toEqual(await answer(anonymous, "POST", `/actors/${none}/inbox`, follow(none)));
    // A private library is followed through the URL its owner shares: its actor is served, not its music.
    expect((await anonymous.get(`/actors/${identifier("lib", hidden.library)}`, accept.headers)).body).toMatchObject({ type: "Application", name: "Diary" });
  });
});
