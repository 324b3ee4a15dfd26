import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio, makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports, waitForScans } from "../helpers/imports.ts";
import { rest, subsonicCredentials, tokenParams, type Credentials } from "../subsonic/helpers.ts";

const ffmpeg = hasFfmpeg();

// What a listener notices of a real-looking library imported in place: album order when only some files
// carry DISCNUMBER, untagged files named "01 - Foo.mp3", covers added later, genres with slashes in them.
describe.skipIf(!ffmpeg)("catalog correctness of a folder import", () => {
  let app: TestApp;
  let curator: TestClient;
  let creds: Credentials;
  let music: string;
  let library: string;
  const partial = { ALBUM: "Half Tagged", ALBUMARTIST: "The Taggers", ARTIST: "The Taggers", DATE: "2011" };

  const albumId = async (title: string) =>
    (await app.db.pool.query<{ id: string }>("SELECT id FROM album WHERE title = $1", [title])).rows[0]!.id;
  const rescan = async () => {
    expect((await curator.post(`/api/v1/libraries/${library}/scan`)).status).toBe(202);
    await waitForScans(app.db.pool);
    await waitForImports(app.db.pool, library);
  };

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    curator = new TestClient(app.url);
    creds = await subsonicCredentials(curator, "curator");
    music = await mkdtemp(path.join(os.tmpdir(), "catalog-correctness-"));
    const [half, untagged, genres] = ["Half Tagged", "Untagged", "Genres"].map((d) => path.join(music, d));
    for (const dir of [half!, untagged!, genres!]) await mkdir(dir);
    // Only tracks 1 and 3 carry DISCNUMBER (a tagger's partial run); a missing one must mean disc 1 too.
    for (const [n, title, disc] of [[1, "Alpha", "1"], [2, "Bravo", undefined], [3, "Charlie", "1"], [4, "Delta", undefined]] as const) {
      const tags = { ...partial, TITLE: title, TRACKNUMBER: String(n), ...(disc ? { DISCNUMBER: disc } : {}) };
      await makeAudio(half!, { name: `${n} ${title}`, format: n % 2 ? "flac" : "mp3", tags });
    }
    // No tags at all (different lengths, so the bytes differ: the same bytes twice would be a duplicate).
    await makeAudio(untagged!, { name: "01 - Foo", format: "mp3", seconds: 1 });
    await makeAudio(untagged!, { name: "02 - Bar", format: "mp3", seconds: 2 });
    // Untagged too, named like the first in another folder; and one disc folder of an Artist/Album tree.
    await mkdir(path.join(music, "Untagged Too"));
    await makeAudio(path.join(music, "Untagged Too"), { name: "01 - Foo", format: "mp3", seconds: 3 });
    const discFolder = path.join(music, "Folder Artist", "Folder Album", "CD2");
    await mkdir(discFolder, { recursive: true });
    await makeAudio(discFolder, { name: "01 - Intro", format: "mp3", seconds: 4 });
    const genreTags = { ALBUM: "Genre Test", ALBUMARTIST: "Genre Band", ARTIST: "Genre Band" };
    await makeAudio(genres!, { name: "1", format: "mp3", tags: { ...genreTags, TITLE: "Folk Song", TRACKNUMBER: "1", GENRE: "Singer/Songwriter" } });
    await makeAudio(genres!, { name: "2", format: "flac", tags: { ...genreTags, TITLE: "Radio Song", TRACKNUMBER: "2", GENRE: "Rock; Pop" } });
    library = (await curator.post("/api/v1/libraries", { name: "NAS", musicFolder: music })).body.id;
    await waitForScans(app.db.pool);
    await waitForImports(app.db.pool, library);
  });
  afterAll(async () => {
    await app?.close();
    await rm(music, { recursive: true, force: true });
  });

  it("plays an album whose files only partly carry DISCNUMBER in track order, in REST and Subsonic", async () => {
    const id = await albumId("Half Tagged");
    const detail = await curator.get(`/api/v1/albums/${id}`);
    expect(detail.body.tracks.map((t: { title: string; discNumber: number }) => [t.discNumber, t.title])).toEqual([
      [1, "Alpha"], [1, "Bravo"], [1, "Charlie"], [1, "Delta"],
    ]);
    const album = (await rest(app.url, "getAlbum", { ...tokenParams(creds), f: "json", id })).json.album;
    expect(album.song.map((s: { discNumber: number; track: number; title: string }) => [s.discNumber, s.track, s.title])).toEqual([
      [1, 1, "Alpha"], [1, 2, "Bravo"], [1, 3, "Charlie"], [1, 4, "Delta"],
    ]);
    const directory = (await rest(app.url, "getMusicDirectory", { ...tokenParams(creds), f: "json", id })).json.directory;
    expect(directory.child.map((s: { title: string }) => s.title)).toEqual(["Alpha", "Bravo", "Charlie", "Delta"]);
    // An artist's "play all" (by year) and the newest tracks keep each album's order too.
    const artist = detail.body.artist.id;
    for (const sort of ["year", "date_added"]) {
      const page = await curator.get(`/api/v1/tracks?artist=${artist}&sort=${sort}`);
      expect([sort, page.body.items.map((t: { title: string }) => t.title)]).toEqual([sort, ["Alpha", "Bravo", "Charlie", "Delta"]]);
    }
  });

  it("makes each untagged file a track titled and numbered from its name, on the album its folder names", async () => {
    const { rows } = await app.db.pool.query(
      `SELECT t.title, t.disc_number AS disc, t.track_number AS track, a.title AS album, ar.name AS artist
       FROM upload u JOIN track t ON t.id = u.track_id JOIN album a ON a.id = t.album_id JOIN artist ar ON ar.id = a.album_artist_id
       WHERE u.path ~ '/(Untagged|Untagged Too|Folder Artist)/' ORDER BY a.title, t.track_number`,
    );
    expect(rows).toEqual([
      { title: "Intro", disc: 2, track: 1, album: "Folder Album", artist: "Folder Artist" },
      { title: "Foo", disc: null, track: 1, album: "Untagged", artist: "Unknown Artist" },
      { title: "Bar", disc: null, track: 2, album: "Untagged", artist: "Unknown Artist" },
      { title: "Foo", disc: null, track: 1, album: "Untagged Too", artist: "Unknown Artist" },
    ]);
  });

  it("keeps two different untagged uploads of the same name two tracks (no folder names their album)", async () => {
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), "untagged-uploads-"));
    try {
      const files = [];
      // Lengths no other untagged file of this library has: the same bytes would rightly be a duplicate.
      for (const seconds of [5, 6]) {
        const dir = path.join(elsewhere, String(seconds));
        await mkdir(dir);
        files.push({ name: "01 - Intro.mp3", data: await readFile(await makeAudio(dir, { name: "01 - Intro", format: "mp3", seconds })) });
      }
      for (const file of files) {
        await curator.upload(`/api/v1/libraries/${library}/uploads`, [file]);
        await waitForImports(app.db.pool, library);
      }
      const { rows } = await app.db.pool.query(
        `SELECT u.status, t.title FROM upload u JOIN track t ON t.id = u.track_id WHERE u.original_name = '01 - Intro.mp3' AND u.storage = 'stored'`,
      );
      expect(rows).toEqual([{ status: "finished", title: "Intro" }, { status: "finished", title: "Intro" }]);
      const tracks = await app.db.pool.query("SELECT DISTINCT track_id FROM upload WHERE original_name = '01 - Intro.mp3' AND storage = 'stored'");
      expect(tracks.rowCount).toBe(2);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it("splits a genre tag on ';' but keeps 'Singer/Songwriter' one genre", async () => {
    const detail = await curator.get(`/api/v1/albums/${await albumId("Genre Test")}`);
    expect(detail.body.tracks.map((t: { title: string; genres: string[] }) => [t.title, t.genres])).toEqual([
      ["Folk Song", ["Singer/Songwriter"]],
      ["Radio Song", ["Pop", "Rock"]],
    ]);
  });

  it("gives an album without a cover the cover image a rescan finds in its folder", async () => {
    const id = await albumId("Half Tagged");
    expect((await curator.get(`/api/v1/albums/${id}`)).body.coverUrl).toBeNull();
    await writeFile(path.join(music, "Half Tagged", "cover.jpg"), await makeCoverImage(300, 300, "jpeg"));
    await rescan();
    const album = (await curator.get(`/api/v1/albums/${id}`)).body;
    expect(album.coverUrl).toBe(`/api/v1/albums/${id}/cover`);
    const cover = await curator.get(album.coverUrl);
    expect(cover.status).toBe(302);
    expect((await curator.get(cover.headers.get("location")!)).headers.get("content-type")).toMatch(/^image\//);
  });

  it("gives an uploaded album the cover of a folder that holds the same files later", async () => {
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), "upload-first-"));
    try {
      const file = await makeAudio(elsewhere, { name: "Solo", format: "mp3", tags: { ALBUM: "Uploaded First", ARTIST: "Uploader", TITLE: "Solo" } });
      await curator.upload(`/api/v1/libraries/${library}/uploads`, [{ name: "Solo.mp3", data: await readFile(file) }]);
      await waitForImports(app.db.pool, library);
      const id = await albumId("Uploaded First");
      expect((await curator.get(`/api/v1/albums/${id}`)).body.coverUrl).toBeNull();
      // The same bytes, now in the music folder with a cover: a duplicate, skipped, whose cover the album takes.
      await mkdir(path.join(music, "Uploaded First"));
      await cp(file, path.join(music, "Uploaded First", "Solo.mp3"));
      await writeFile(path.join(music, "Uploaded First", "folder.png"), await makeCoverImage(200, 200, "png"));
      await rescan();
      const { rows } = await app.db.pool.query("SELECT status FROM upload WHERE path LIKE '%/Uploaded First/Solo.mp3'");
      expect(rows).toEqual([{ status: "skipped" }]);
      expect((await curator.get(`/api/v1/albums/${id}`)).body.coverUrl).toBe(`/api/v1/albums/${id}/cover`);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});
