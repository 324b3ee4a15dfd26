import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio, makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { catalogSnapshot, countRows, waitForImports } from "../helpers/imports.ts";

const ffmpeg = hasFfmpeg();
const RELEASE = "0d1f0e3c-1111-4a4a-8b8b-000000000001";
const ARTIST_A = "5b11f4ce-a62d-471e-81fc-a69a8278c7da";

describe.skipIf(!ffmpeg)("uploading and importing", () => {
  let app: TestApp;
  let alice: TestClient;
  let bob: TestClient;
  let dir: string;
  let library: string;
  const files: Record<string, { name: string; data: Uint8Array }> = {};
  const load = async (file: string) => ({ name: path.basename(file), data: await readFile(file) });

  beforeAll(async () => {
    app = await startTestApp({ worker: true, env: { MAX_UPLOAD_MB: "2", USER_QUOTA_MB: "3" } });
    alice = new TestClient(app.url);
    bob = new TestClient(app.url);
    await alice.signup("alice");
    await bob.signup("bob");
    library = (await alice.post("/api/v1/libraries", { name: "Main" })).body.id;
    dir = await mkdtemp(path.join(os.tmpdir(), "upload-fixtures-"));
    const album = { ALBUM: "Kid A", ALBUMARTIST: "Radiohead", DATE: "2000-10-02", MUSICBRAINZ_ALBUMID: RELEASE, TRACKTOTAL: "10" };
    const cover = await makeCoverImage(300, 300, "jpeg");
    files.one = await load(await makeAudio(dir, { name: "01 Everything", format: "flac", cover,
      tags: { ...album, TITLE: "Everything in Its Right Place", ARTIST: "Radiohead", TRACKNUMBER: "1",
        GENRE: ["Electronic", "Art Rock"], MUSICBRAINZ_ARTISTID: ARTIST_A, MUSICBRAINZ_ALBUMARTISTID: ARTIST_A } }));
    files.two = await load(await makeAudio(dir, { name: "02 Kid A", format: "mp3",
      tags: { ...album, TITLE: "Kid A", ARTIST: "radiohead", TRACKNUMBER: "2", GENRE: "electronic" } }));
    files.feat = await load(await makeAudio(dir, { name: "03 feat", format: "ogg",
      tags: { ...album, TITLE: "The National Anthem", ARTIST: "Radiohead feat. Jonny Greenwood", TRACKNUMBER: "3" } }));
    files.comp1 = await load(await makeAudio(dir, { name: "c1", format: "m4a",
      tags: { ALBUM: "Now 99", ALBUMARTIST: "Various Artists", COMPILATION: "1", TITLE: "Song A", ARTIST: "Artist One", TRACKNUMBER: "1" } }));
    files.comp2 = await load(await makeAudio(dir, { name: "c2", format: "opus",
      tags: { ALBUM: "Now 99", COMPILATION: "1", TITLE: "Song B", ARTIST: "Artist Two", TRACKNUMBER: "2" } }));
    files.wav = await load(await makeAudio(dir, { name: "take", format: "wav", tags: { TITLE: "Demo", ARTIST: "Garage Band" } }));
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("stores each file, queues an import, and ends with every upload finished", async () => {
    const res = await alice.upload(`/api/v1/libraries/${library}/uploads`, Object.values(files));
    expect(res.status).toBe(201);
    expect(res.body.uploads).toHaveLength(6);
    expect(res.body.rejected).toEqual([]);
    expect(res.body.uploads[0]).toMatchObject({ libraryId: library, status: "pending", originalName: "01 Everything.flac", error: null });
    await waitForImports(app.db.pool, library);
    const list = await alice.get(`/api/v1/uploads?library=${library}&status=finished`);
    expect(list.body.total).toBe(6);
    const progress = await alice.get(`/api/v1/import-batches/${res.body.batchId}`);
    expect(progress.body.counts).toEqual({ pending: 0, finished: 6, errored: 0, skipped: 0, total: 6 });
  });

  it("merges artists and albums by MusicBrainz id and normalised names, keeping every credit", async () => {
    const catalog = await catalogSnapshot(app.db.pool);
    expect(catalog.map((t) => [t.album, t.album_artist, t.track_number, t.title, t.credit])).toEqual([
      ["Kid A", "Radiohead", 1, "Everything in Its Right Place", "Radiohead"],
      ["Kid A", "Radiohead", 2, "Kid A", "radiohead"],
      ["Kid A", "Radiohead", 3, "The National Anthem", "Radiohead feat. Jonny Greenwood"],
      ["Now 99", "Various Artists", 1, "Song A", "Artist One"],
      ["Now 99", "Various Artists", 2, "Song B", "Artist Two"],
      ["Unknown Album", "Garage Band", null, "Demo", "Garage Band"],
    ]);
    expect(catalog[0]).toMatchObject({ year: 2000, album_mbid: RELEASE, compilation: false });
    // Genres merge case-insensitively: "Electronic" and "electronic" are one genre, spelled as first seen.
    expect(catalog[0].genres.map((g: string) => g.toLowerCase())).toEqual(["art rock", "electronic"]);
    expect(catalog[1].genres).toEqual(catalog[0].genres.filter((g: string) => g.toLowerCase() === "electronic"));
    expect(await countRows(app.db.pool, "genre")).toBe(2);
    expect(catalog[3].compilation).toBe(true);
    const artists = await app.db.pool.query("SELECT name, mbid FROM artist ORDER BY name");
    expect(artists.rows.map((r) => r.name)).toEqual(["Artist One", "Artist Two", "Garage Band", "Jonny Greenwood", "Radiohead", "Various Artists"]);
    expect(artists.rows.find((r) => r.name === "Radiohead").mbid).toBe(ARTIST_A);
    expect(await countRows(app.db.pool, "album")).toBe(3);
  });

  it("records the file's audio properties and the album cover", async () => {
    const { rows } = await app.db.pool.query("SELECT * FROM upload WHERE original_name = '01 Everything.flac'");
    expect(rows[0]).toMatchObject({ mime_type: "audio/flac", lossless: true, bit_depth: 16, channels: expect.any(Number), codec: "FLAC" });
    expect(rows[0].duration_ms).toBeGreaterThan(1000);
    const album = await app.db.pool.query("SELECT id, cover_hash FROM album WHERE title = 'Kid A'");
    expect(album.rows[0].cover_hash).toMatch(/^[0-9a-f]{64}$/);
    const cover = await alice.request("GET", `/api/v1/albums/${album.rows[0].id}/cover?size=256&format=webp`);
    expect(cover.status).toBe(302);
    // The library is private: its cover goes only to who may see the album (test/subsonic/hidden-items.test.ts).
    const image = await alice.get(cover.headers.get("location")!);
    expect(image.headers.get("content-type")).toBe("image/webp");
    expect(image.headers.get("cache-control")).toContain("immutable");
    expect(image.headers.get("etag")).toBeTruthy();
    const noCover = await app.db.pool.query("SELECT id FROM album WHERE title = 'Unknown Album'");
    const none = await alice.get(`/api/v1/albums/${noCover.rows[0].id}/cover`);
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe("not_found");
  });

  it("skips the same file twice in one library, but shares the track across libraries", async () => {
    const again = await alice.upload(`/api/v1/libraries/${library}/uploads`, [{ ...files.two!, name: "copy.mp3" }]);
    await waitForImports(app.db.pool, library);
    const copy = await alice.get(`/api/v1/uploads/${again.body.uploads[0].id}`);
    expect(copy.body.status).toBe("skipped");
    expect(copy.body.error).toEqual({ code: "duplicate", message: 'The same file is already in this library as "02 Kid A.mp3"' });
    const bobLib = (await bob.post("/api/v1/libraries", { name: "Bob's" })).body.id;
    const bobs = await bob.upload(`/api/v1/libraries/${bobLib}/uploads`, [files.two!]);
    await waitForImports(app.db.pool, bobLib);
    const shared = await bob.get(`/api/v1/uploads/${bobs.body.uploads[0].id}`);
    const original = await alice.get(`/api/v1/uploads?library=${library}&status=finished`);
    const aliceTwo = original.body.items.find((u: { originalName: string }) => u.originalName === "02 Kid A.mp3");
    expect(shared.body.status).toBe("finished");
    expect(shared.body.trackId).toBe(aliceTwo.trackId);
    expect(await countRows(app.db.pool, "track")).toBe(6);
  });

  it("rejects files over the size limit and beyond the quota, keeping nothing of them", async () => {
    const big = { name: "huge.flac", data: new Uint8Array(2 * 1024 * 1024 + 10) };
    const tooBig = await alice.upload(`/api/v1/libraries/${library}/uploads`, [big]);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe("file_too_large");
    const leftovers = await app.db.pool.query("SELECT count(*)::int AS n FROM upload WHERE original_name = 'huge.flac'");
    expect(leftovers.rows[0].n).toBe(0);
    const medium = { name: "medium.mp3", data: new Uint8Array(1_900_000) };
    const first = await bob.upload(`/api/v1/libraries/${(await bob.get("/api/v1/libraries")).body.items[0].id}/uploads`, [medium, medium]);
    expect(first.status).toBe(201);
    expect(first.body.uploads).toHaveLength(1);
    expect(first.body.rejected).toEqual([{ name: "medium.mp3", code: "quota_exceeded", message: "This file does not fit in your remaining storage quota" }]);
  });

  it("never lets a client-supplied name choose where the file is written", async () => {
    const sneaky = await alice.upload(`/api/v1/libraries/${library}/uploads`, [
      { name: "../../../etc/évil\u202ename.mp3", data: files.two!.data.slice(0, 1000) },
    ]);
    expect(sneaky.status).toBe(201);
    const upload = sneaky.body.uploads[0];
    expect(upload.originalName).toBe("évilname.mp3");
    const { rows } = await app.db.pool.query("SELECT path FROM upload WHERE id = $1", [upload.id]);
    expect(rows[0].path).toBe(path.join("uploads", library, `${upload.id}.mp3`));
    expect(existsSync(path.join(app.config.mediaDir, rows[0].path))).toBe(true);
    await waitForImports(app.db.pool, library);
  });

  it("refuses uploads into someone else's library and non-multipart bodies", async () => {
    expect((await bob.upload(`/api/v1/libraries/${library}/uploads`, [files.wav!])).status).toBe(404);
    const json = await alice.post(`/api/v1/libraries/${library}/uploads`, { file: "x" });
    expect(json.status).toBe(400);
    expect(json.body.error.code).toBe("multipart_required");
    await writeFile(path.join(dir, "unused"), "");
  });

  it("finds an album's cover in a later track when the first one imported has none", async () => {
    const album = { ALBUM: "Amnesiac", ALBUMARTIST: "Radiohead", ARTIST: "Radiohead" };
    const bare = await load(await makeAudio(dir, { name: "am1", format: "ogg", tags: { ...album, TITLE: "Packt", TRACKNUMBER: "1" } }));
    const covered = await load(await makeAudio(dir, { name: "am2", format: "mp3", cover: await makeCoverImage(200, 200, "png"),
      tags: { ...album, TITLE: "Pyramid Song", TRACKNUMBER: "2" } }));
    for (const file of [bare, covered]) {
      expect((await alice.upload(`/api/v1/libraries/${library}/uploads`, [file])).status).toBe(201);
      await waitForImports(app.db.pool, library);
    }
    const { rows } = await app.db.pool.query("SELECT cover_hash FROM album WHERE title = 'Amnesiac'");
    expect(rows).toEqual([{ cover_hash: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
  });
});
