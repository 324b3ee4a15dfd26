import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { countRows, waitForImports } from "../helpers/imports.ts";
import { withTransaction } from "../../core/db/transaction.ts";
import { enqueueJob } from "../../core/jobs/enqueue.ts";
import type { User } from "../../core/accounts/user.entity.ts";
import { waitUntil } from "../helpers/wait.ts";

const ffmpeg = hasFfmpeg();

describe.skipIf(!ffmpeg)("deletion", () => {
  let app: TestApp;
  let alice: TestClient;
  let bob: TestClient;
  let dir: string;
  const audio: Record<string, { name: string; data: Uint8Array }> = {};

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    alice = new TestClient(app.url);
    bob = new TestClient(app.url);
    await alice.signup("alice");
    await bob.signup("bob");
    dir = await mkdtemp(path.join(os.tmpdir(), "deletion-"));
    const make = async (key: string, tags: Record<string, string>) => {
      const file = await makeAudio(dir, { name: key, format: "mp3", tags });
      audio[key] = { name: `${key}.mp3`, data: await readFile(file) };
    };
    await make("a1", { ALBUM: "Alpha", ALBUMARTIST: "Band", ARTIST: "Band feat. Guest", TITLE: "One", TRACKNUMBER: "1" });
    await make("a2", { ALBUM: "Alpha", ALBUMARTIST: "Band", ARTIST: "Band", TITLE: "Two", TRACKNUMBER: "2" });
    await make("b1", { ALBUM: "Beta", ALBUMARTIST: "Other Band", ARTIST: "Other Band", TITLE: "Three", TRACKNUMBER: "1", GENRE: "Jazz" });
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const storedPath = async (uploadId: string) => {
    const { rows } = await app.db.pool.query("SELECT path FROM upload WHERE id = $1", [uploadId]);
    return path.join(app.config.mediaDir, rows[0].path);
  };

  it("of an upload removes its stored file and the track, album and artists it alone kept", async () => {
    const lib = (await alice.post("/api/v1/libraries", { name: "L1" })).body.id;
    const res = await alice.upload(`/api/v1/libraries/${lib}/uploads`, [audio.a1!, audio.a2!, audio.b1!]);
    await waitForImports(app.db.pool, lib);
    const [one, two] = res.body.uploads;
    const file = await storedPath(one.id);
    const twoFile = await storedPath(two.id);
    expect(existsSync(file)).toBe(true);
    expect((await bob.request("DELETE", `/api/v1/uploads/${one.id}`)).status).toBe(404);
    expect((await alice.request("DELETE", `/api/v1/uploads/${one.id}`)).status).toBe(204);
    expect(existsSync(file)).toBe(false);
    const names = await app.db.pool.query("SELECT name FROM artist ORDER BY name");
    expect(names.rows.map((r) => r.name)).toEqual(["Band", "Other Band"]); // "Guest" was only on track One
    expect(await countRows(app.db.pool, "track")).toBe(2);

    const album = await app.db.pool.query("SELECT album_id FROM track WHERE title = 'Two'");
    expect((await bob.request("DELETE", `/api/v1/albums/${album.rows[0].album_id}`)).status).toBe(404);
    expect((await alice.request("DELETE", `/api/v1/albums/${album.rows[0].album_id}`)).status).toBe(204);
    expect(existsSync(twoFile)).toBe(false);
    const albums = await app.db.pool.query("SELECT title FROM album");
    expect(albums.rows).toEqual([{ title: "Beta" }]);

    expect((await alice.request("DELETE", `/api/v1/libraries/${lib}`)).status).toBe(204);
    for (const table of ["upload", "track", "album", "artist", "artist_credit", "genre", "track_genre"]) {
      expect([table, await countRows(app.db.pool, table)]).toEqual([table, 0]);
    }
    expect(await readdir(path.join(app.config.mediaDir, "uploads", lib))).toEqual([]);
  });

  it("keeps tracks another library still has, and never deletes files of an in-place folder", async () => {
    const aliceLib = (await alice.post("/api/v1/libraries", { name: "L2" })).body.id;
    const bobLib = (await bob.post("/api/v1/libraries", { name: "B" })).body.id;
    await alice.upload(`/api/v1/libraries/${aliceLib}/uploads`, [audio.a2!]);
    await bob.upload(`/api/v1/libraries/${bobLib}/uploads`, [audio.a2!]);
    await waitForImports(app.db.pool, aliceLib);
    await waitForImports(app.db.pool, bobLib);
    expect(await countRows(app.db.pool, "track")).toBe(1);
    await alice.request("DELETE", `/api/v1/libraries/${aliceLib}`);
    expect(await countRows(app.db.pool, "track")).toBe(1);

    const folder = await mkdtemp(path.join(os.tmpdir(), "in-place-"));
    const kept = await makeAudio(folder, { name: "keep me", format: "mp3", tags: { TITLE: "Keep", ARTIST: "Me" } });
    const admin = new TestClient(app.url);
    await admin.login("alice");
    const inPlace = (await admin.post("/api/v1/libraries", { name: "Folder", musicFolder: folder })).body.id;
    await waitForImports(app.db.pool, inPlace);
    await waitUntil(async () => (await app.db.pool.query("SELECT 1 FROM upload WHERE library_id = $1 AND status = 'finished'", [inPlace])).rowCount || undefined);
    expect((await admin.request("DELETE", `/api/v1/libraries/${inPlace}`)).status).toBe(204);
    expect(existsSync(kept)).toBe(true);
    await rm(folder, { recursive: true, force: true });
  });

  it("joins the caller's transaction: a rollback keeps the upload and its file, a commit removes both with the job enqueued beside", async () => {
    const lib = (await alice.post("/api/v1/libraries", { name: "In a transaction" })).body.id;
    const [upload] = (await alice.upload(`/api/v1/libraries/${lib}/uploads`, [audio.b1!])).body.uploads;
    await waitForImports(app.db.pool, lib);
    const file = await storedPath(upload.id);
    const owner = { id: (await app.db.pool.query("SELECT owner_id FROM library WHERE id = $1", [lib])).rows[0].owner_id } as User;
    const jobs = async () => (await app.db.pool.query("SELECT 1 FROM graphile_worker.jobs WHERE task_identifier = 'deletion_test_job'")).rowCount;

    await expect(withTransaction(app.db, async ({ sql }) => {
      await app.deps.uploads.deleteOne(owner, upload.id, sql);
      await enqueueJob(sql, "deletion_test_job", { uploadId: upload.id }, { runAt: new Date(Date.now() + 3_600_000) });
      throw new Error("changed my mind");
    })).rejects.toThrow("changed my mind");
    expect(existsSync(file)).toBe(true);
    expect((await app.db.pool.query("SELECT 1 FROM upload WHERE id = $1", [upload.id])).rowCount).toBe(1);
    expect(await jobs()).toBe(0);

    await withTransaction(app.db, async ({ sql }) => {
      await app.deps.uploads.deleteOne(owner, upload.id, sql);
      await enqueueJob(sql, "deletion_test_job", { uploadId: upload.id }, { runAt: new Date(Date.now() + 3_600_000) });
      // Nothing irreversible before the commit.
      expect(existsSync(file)).toBe(true);
    });
    expect(existsSync(file)).toBe(false);
    expect((await app.db.pool.query("SELECT 1 FROM upload WHERE id = $1", [upload.id])).rowCount).toBe(0);
    expect(await jobs()).toBe(1);
  });
});
