// The row factories (test/helpers/factories.ts) stand in for imports in the catalog, Subsonic and search
// tests: the same tags, imported from a real file or seeded, must leave the same rows.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio, makeCoverImage, type AudioFormat, type TagValues } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { catalogSnapshot, waitForImports } from "../helpers/imports.ts";

const SONGS: [string, AudioFormat, TagValues][] = [
  ["bio1", "mp3", { ALBUM: "Biophilia", ALBUMARTIST: "Björk", DATE: "2011-10-05", TITLE: "Náttúra", TRACKNUMBER: "1", DISCNUMBER: "1",
    ARTIST: "Björk feat. Thom Yorke", ARTISTS: ["Björk", "Thom Yorke"], GENRE: ["Electronic", "Pop"],
    MUSICBRAINZ_ALBUMID: "c2d5e9f8-5a6b-4e98-8b40-4d6c3a1a7b22", REPLAYGAIN_TRACK_GAIN: "-6.50 dB", REPLAYGAIN_TRACK_PEAK: "0.950000" }],
  ["bio2", "flac", { ALBUM: "Biophilia", ALBUMARTIST: "Björk", DATE: "2011", TITLE: "Hunter", TRACKNUMBER: "2", ARTIST: "Björk",
    GENRE: "Electronic", LYRICS: "[00:01.50]If travel is searching\n[00:04.00]And home what's been found" }],
  ["nv1", "ogg", { ALBUM: "Sampler", COMPILATION: "1", TITLE: "La Femme d'Argent", ARTIST: "Air", MUSICBRAINZ_TRACKID: "b8a4d8d7-4c5d-4d87-9a3f-3c5b2f0f6a11" }],
  ["03 Untitled", "m4a", { ALBUM: "Sampler", COMPILATION: "1", ARTIST: "Daft Punk" }],
];

/** What a catalog reader sees of the rows, without ids and times. */
async function rowsOf(pool: pg.Pool) {
  const uploads = await pool.query(`
    SELECT t.title, u.status, u.original_name, u.mime_type, u.codec, u.lossless, u.bitrate, u.sample_rate, u.bit_depth,
           u.channels, u.replay_gain, u.lyrics, u.lyrics_synced, u.duration_ms, a.cover_hash IS NOT NULL AS has_cover
    FROM upload u JOIN track t ON t.id = u.track_id JOIN album a ON a.id = t.album_id ORDER BY t.title`);
  const search = await pool.query(
    "SELECT kind, name, extra, cardinality(library_ids) AS libraries FROM search_document ORDER BY kind, name");
  const credits = await pool.query(`
    SELECT coalesce(t.title, a.title) AS owner, c.position, c.credited_name, c.join_phrase, ar.name, ar.mbid
    FROM artist_credit c JOIN artist ar ON ar.id = c.artist_id LEFT JOIN track t ON t.id = c.track_id
    LEFT JOIN album a ON a.id = c.album_id ORDER BY 1, 2`);
  const generation = await pool.query("SELECT value FROM catalog_generation");
  return {
    catalog: await catalogSnapshot(pool),
    uploads: uploads.rows,
    search: search.rows,
    credits: credits.rows,
    generationMoved: Number(generation.rows[0].value) > 0,
  };
}

describe.skipIf(!hasFfmpeg())("seeded tracks", () => {
  let imported: TestApp;
  let seeded: TestApp;
  let dir: string;

  beforeAll(async () => {
    [imported, seeded] = await Promise.all([startTestApp({ worker: true }), startTestApp()]);
    dir = await mkdtemp(path.join(os.tmpdir(), "seeded-like-imported-"));
    const cover = await makeCoverImage(120, 120, "jpeg");
    const importer = new TestClient(imported.url);
    await importer.signup("alice");
    const library = (await importer.post("/api/v1/libraries", { name: "Music", privacy: "public" })).body.id;
    await importer.upload(`/api/v1/libraries/${library}/uploads`, await Promise.all(SONGS.map(async ([name, format, tags]) => ({
      name: `${name}.${format}`,
      data: await readFile(await makeAudio(dir, { name, format, tags, ...(name === "bio1" ? { cover } : {}) })),
    }))));
    await waitForImports(imported.db.pool, library);

    const seeder = new TestClient(seeded.url);
    await seeder.signup("alice");
    const seededLibrary = (await seeder.post("/api/v1/libraries", { name: "Music", privacy: "public" })).body.id;
    await seedTracks(seeded, seededLibrary, SONGS.map(([name, format, tags]) => ({ name, format, tags, ...(name === "bio1" ? { cover } : {}) })));
  });
  afterAll(async () => {
    await Promise.all([imported?.close(), seeded?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it("leave the rows an import of the same tags leaves: catalog, credits, uploads, search index, counters", async () => {
    const real = await rowsOf(imported.db.pool);
    const fake = await rowsOf(seeded.db.pool);
    expect(real.uploads).toHaveLength(SONGS.length);
    // The encoders pad a tone by a few milliseconds; the factory gives its length as asked.
    for (const [i, upload] of fake.uploads.entries()) expect(Math.abs(upload.duration_ms - real.uploads[i].duration_ms)).toBeLessThan(100);
    const withoutDuration = (rows: { duration_ms: number }[]) => rows.map(({ duration_ms: _, ...row }) => row);
    expect({ ...fake, uploads: withoutDuration(fake.uploads) }).toEqual({ ...real, uploads: withoutDuration(real.uploads) });
  });
});
