import { cp, mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio, makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { catalogSnapshot, countRows, waitForImports, waitForScans } from "../helpers/imports.ts";
import { runEntry } from "../helpers/processes.ts";
import { waitUntil } from "../helpers/wait.ts";

const ffmpeg = hasFfmpeg();

describe.skipIf(!ffmpeg)("folder import (in place)", () => {
  let app: TestApp;
  let admin: TestClient;
  let music: string;
  let libraryId: string;
  const album = { ALBUM: "Ágætis byrjun", ALBUMARTIST: "Sigur Rós", DATE: "1999" };

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    admin = new TestClient(app.url);
    await admin.signup("curator");
    music = await mkdtemp(path.join(os.tmpdir(), "music-"));
    const albumDir = path.join(music, "Sigur Rós", "Ágætis byrjun");
    await mkdir(albumDir, { recursive: true });
    await makeAudio(albumDir, { name: "01 Intro", format: "mp3", tags: { ...album, TITLE: "Intro", ARTIST: "Sigur Rós", TRACKNUMBER: "1" } });
    await makeAudio(albumDir, { name: "02 Svefn-g-englar", format: "flac", tags: { ...album, TITLE: "Svefn-g-englar", ARTIST: "Sigur Rós", TRACKNUMBER: "2" } });
    await writeFile(path.join(albumDir, "cover.jpg"), await makeCoverImage(400, 400, "jpeg"));
    await writeFile(path.join(albumDir, "02 Svefn-g-englar.lrc"), "[00:00.50]Tjú tjú\n[00:01.00]...\n");
    await writeFile(path.join(albumDir, "notes.txt"), "not audio");
    await writeFile(path.join(music, ".hidden.mp3"), "ignored");
    libraryId = (await admin.post("/api/v1/libraries", { name: "NAS", musicFolder: music })).body.id;
    await waitForScans(app.db.pool);
    await waitForImports(app.db.pool, libraryId);
  });
  afterAll(async () => {
    await app?.close();
    await rm(music, { recursive: true, force: true });
  });

  it("imports the library's music folder without copying files, with folder covers and .lrc lyrics", async () => {
    const { rows } = await app.db.pool.query("SELECT storage, path, status, lyrics, lyrics_synced FROM upload ORDER BY path");
    expect(rows.map((r) => [r.storage, path.relative(music, r.path), r.status])).toEqual([
      ["in_place", "Sigur Rós/Ágætis byrjun/01 Intro.mp3", "finished"],
      ["in_place", "Sigur Rós/Ágætis byrjun/02 Svefn-g-englar.flac", "finished"],
    ]);
    expect(rows[1]).toMatchObject({ lyrics_synced: true, lyrics: expect.stringContaining("Tjú tjú") });
    const albums = await app.db.pool.query("SELECT title, cover_hash FROM album");
    expect(albums.rows).toEqual([{ title: "Ágætis byrjun", cover_hash: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(await readdir(app.config.mediaDir)).toEqual(["covers"]);
  });

  it("creates no duplicates when run again, and reports nothing new", async () => {
    const { code, output } = await runEntry(["cli.ts", "import", music, "--library", libraryId], {
      DATABASE_URL: app.config.database.url!,
      MEDIA_DIR: app.config.mediaDir,
    });
    expect(output).toMatch(/: 0 new, 0 changed, 0 removed, 2 unchanged\./);
    expect(code).toBe(0);
    expect(await countRows(app.db.pool, "upload")).toBe(2);
    expect(await countRows(app.db.pool, "track")).toBe(2);
  });

  it("finds new, changed and removed files on rescan, and refreshes changed tags", async () => {
    const albumDir = path.join(music, "Sigur Rós", "Ágætis byrjun");
    await makeAudio(albumDir, { name: "03 Starálfur", format: "ogg", tags: { ...album, TITLE: "Starálfur", ARTIST: "Sigur Rós", TRACKNUMBER: "3" } });
    // Re-tag track 1: a new title, written over the same file.
    const retagged = await makeAudio(os.tmpdir(), { name: `retag-${process.pid}`, format: "mp3", seconds: 2,
      tags: { ...album, TITLE: "Intro (Remastered)", ARTIST: "Sigur Rós", TRACKNUMBER: "1", GENRE: "Post-rock" } });
    await cp(retagged, path.join(albumDir, "01 Intro.mp3"));
    await rm(retagged);
    await utimes(path.join(albumDir, "01 Intro.mp3"), new Date(), new Date(Date.now() + 5000));
    await rm(path.join(albumDir, "02 Svefn-g-englar.flac"));

    const scan = await admin.post(`/api/v1/libraries/${libraryId}/scan`);
    expect(scan.status).toBe(202);
    await waitForScans(app.db.pool);
    await waitForImports(app.db.pool, libraryId);
    const catalog = await catalogSnapshot(app.db.pool);
    expect(catalog.map((t) => [t.track_number, t.title, t.genres])).toEqual([
      [1, "Intro (Remastered)", ["Post-rock"]],
      [3, "Starálfur", null],
    ]);
    const progress = await app.db.pool.query(
      "SELECT b.kind, count(u.*)::int AS n FROM import_batch b LEFT JOIN upload u ON u.batch_id = b.id GROUP BY b.id, b.kind ORDER BY b.created_at DESC LIMIT 1",
    );
    expect(progress.rows[0]).toEqual({ kind: "folder", n: 2 });
    // The file of the removed upload was the user's, not ours: still gone only because they removed it.
    expect(await countRows(app.db.pool, "upload")).toBe(2);
  });

  it("is rescanned by the worker's cron task", async () => {
    const { CRONTAB } = await import("../../workers/main.ts");
    expect(CRONTAB).toMatch(/^\*\/30 \* \* \* \* rescan_libraries$/m);
    await app.db.pool.query("SELECT graphile_worker.add_job('rescan_libraries', '{}')");
    await waitUntil(async () => {
      const { rows } = await app.db.pool.query("SELECT count(*)::int AS n FROM import_batch WHERE library_id = $1", [libraryId]);
      return rows[0].n >= 4 || undefined;
    });
    expect(await countRows(app.db.pool, "track")).toBe(2);
  });
});
