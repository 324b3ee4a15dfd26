import { cp, mkdir, mkdtemp, readFile, rm, utimes } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio, type TagValues } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";
import { waitUntil } from "../helpers/wait.ts";

const ffmpeg = hasFfmpeg();

// The search index (search_document) is kept by triggers; these tests change the catalog every way
// the application does and check that search follows, and that the stored visibility equals a
// recomputation from scratch.
describe.skipIf(!ffmpeg)("the search index", () => {
  let app: TestApp;
  let alice: TestClient;
  let dir: string;
  const anonymous = () => new TestClient(app.url);

  const titles = async (client: TestClient, q: string, group = "tracks") => {
    const res = await client.get(`/api/v1/search?q=${encodeURIComponent(q)}`);
    expect(res.status).toBe(200);
    return res.body[group].map((item: { name?: string; title?: string }) => item.name ?? item.title) as string[];
  };
  const file = async (name: string, tags: TagValues) => {
    const written = await makeAudio(dir, { name, format: "mp3", tags });
    return { name: path.basename(written), data: await readFile(written) };
  };
  const upload = async (library: string, files: { name: string; data: Uint8Array }[]) => {
    const res = await alice.upload(`/api/v1/libraries/${library}/uploads`, files);
    await waitForImports(app.db.pool, library);
    return res.body.uploads.map((u: { id: string }) => u.id) as string[];
  };
  const scanned = async (library: string) => {
    expect((await alice.post(`/api/v1/libraries/${library}/scan`)).status).toBe(202);
    await waitUntil(async () => {
      const { rows } = await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'scan_library'");
      return rows[0].n === 0 || undefined;
    });
    await waitForImports(app.db.pool, library);
  };

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    alice = new TestClient(app.url);
    await alice.signup("alice"); // the first account: an admin, who may import a folder in place
    dir = await mkdtemp(path.join(os.tmpdir(), "search-index-"));
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("finds music once imported, and forgets it once its upload is deleted", async () => {
    const library = (await alice.post("/api/v1/libraries", { name: "Public", privacy: "public" })).body.id;
    const [id] = await upload(library, [await file("new", { TITLE: "Brand New Song", ARTIST: "Fresh Face", ALBUM: "Debut" })]);
    expect(await titles(anonymous(), "brand new song")).toEqual(["Brand New Song"]);
    expect(await titles(anonymous(), "fresh face", "artists")).toEqual(["Fresh Face"]);
    expect((await alice.request("DELETE", `/api/v1/uploads/${id}`)).status).toBe(204);
    expect(await titles(anonymous(), "brand new song")).toEqual([]);
    expect(await titles(alice, "fresh face", "artists")).toEqual([]);
    expect(await titles(alice, "debut", "albums")).toEqual([]);
  });

  it("keeps a track visible through the copies that remain, and follows privacy changes at once", async () => {
    const shared = (await alice.post("/api/v1/libraries", { name: "Shared", privacy: "public" })).body.id;
    const mine = (await alice.post("/api/v1/libraries", { name: "Mine", privacy: "private" })).body.id;
    const copy = await file("twice", { TITLE: "Twice Owned", ARTIST: "Duplicated", ALBUM: "Both" });
    const [sharedCopy] = await upload(shared, [copy]);
    await upload(mine, [copy]);
    expect(await titles(anonymous(), "twice owned")).toEqual(["Twice Owned"]);
    await alice.request("DELETE", `/api/v1/uploads/${sharedCopy}`);
    expect(await titles(anonymous(), "twice owned")).toEqual([]);
    expect(await titles(anonymous(), "duplicated", "artists")).toEqual([]);
    expect(await titles(alice, "twice owned")).toEqual(["Twice Owned"]);
    expect((await alice.request("PATCH", `/api/v1/libraries/${mine}`, { json: { privacy: "public" } })).status).toBe(200);
    expect(await titles(anonymous(), "twice owned")).toEqual(["Twice Owned"]);
    expect((await alice.request("DELETE", `/api/v1/libraries/${mine}`)).status).toBe(204);
    expect(await titles(alice, "twice owned")).toEqual([]);
  });

  it("follows a re-tagged file on rescan: new title, new album, new artist", async () => {
    const music = path.join(dir, "music");
    await mkdir(music);
    await makeAudio(music, { name: "a", format: "mp3", tags: { TITLE: "Old Title", ARTIST: "Old Artist", ALBUM: "Old Album" } });
    await makeAudio(music, { name: "b", format: "mp3", tags: { TITLE: "Stays Put", ARTIST: "Old Artist", ALBUM: "Old Album" } });
    const library = (await alice.post("/api/v1/libraries", { name: "NAS", privacy: "public", musicFolder: music })).body.id;
    await scanned(library);
    expect(await titles(anonymous(), "old title")).toEqual(["Old Title"]);
    const retagged = await makeAudio(dir, { name: "retag", format: "mp3", seconds: 2,
      tags: { TITLE: "New Title", ARTIST: "New Artist", ALBUM: "New Album" } });
    await cp(retagged, path.join(music, "a.mp3"));
    await utimes(path.join(music, "a.mp3"), new Date(), new Date(Date.now() + 5000));
    await scanned(library);
    expect(await titles(anonymous(), "new title")).toEqual(["New Title"]);
    expect(await titles(anonymous(), "old title")).not.toContain("Old Title");
    // (Names one word apart also show, below, as typo matches.)
    expect((await titles(anonymous(), "old artist", "artists"))[0]).toBe("Old Artist"); // still credited on "Stays Put"
    expect((await titles(anonymous(), "new artist", "artists"))[0]).toBe("New Artist");
    expect((await titles(anonymous(), "new album", "albums"))[0]).toBe("New Album");
    expect((await titles(anonymous(), "old album", "albums"))[0]).toBe("Old Album");
    expect(await titles(anonymous(), "stays put")).toEqual(["Stays Put"]);
  });

  it("follows playlists renamed, re-shared and deleted", async () => {
    const id = (await alice.post("/api/v1/playlists", { name: "Working Title", privacy: "public" })).body.id;
    expect(await titles(anonymous(), "working title", "playlists")).toEqual(["Working Title"]);
    await alice.request("PATCH", `/api/v1/playlists/${id}`, { json: { name: "Final Name", privacy: "private" } });
    expect(await titles(alice, "working title", "playlists")).toEqual([]);
    expect(await titles(alice, "final name", "playlists")).toEqual(["Final Name"]);
    expect(await titles(anonymous(), "final name", "playlists")).toEqual([]);
    await alice.request("DELETE", `/api/v1/playlists/${id}`);
    expect(await titles(alice, "final name", "playlists")).toEqual([]);
  });

  it("holds a row per playlist and per piece of music some library holds, with the libraries a recount gives", async () => {
    const { rows } = await app.db.pool.query(`
      SELECT (SELECT count(*) FROM playlist) + (SELECT count(*) FROM (
                SELECT 'artist' AS kind, id FROM artist UNION ALL SELECT 'album', id FROM album UNION ALL SELECT 'track', id FROM track) m
              WHERE search_libraries_of(m.kind, m.id) <> '{}') AS expected,
             (SELECT count(*) FROM search_document) AS documents,
             (SELECT count(*) FROM search_document WHERE kind <> 'playlist' AND library_ids <> search_libraries_of(kind, id)) AS stale`);
    expect(rows[0]).toEqual({ expected: rows[0].documents, documents: expect.any(String), stale: "0" });
    expect(Number(rows[0].documents)).toBeGreaterThan(5);
  });
});
