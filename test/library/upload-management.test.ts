// Managing uploads over the REST API: paging through all of them, filtering by status with errors first,
// retrying a failed import, and a library's import status (counts by status, whether a scan is queued).
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";
import { waitUntil } from "../helpers/wait.ts";

const ffmpeg = hasFfmpeg();
const junk = (name: string) => ({ name, data: Buffer.from(`${name}: these are liner notes, not music\n`.repeat(40)) });

interface UploadDto {
  id: string;
  originalName: string;
  status: string;
  error: { code: string; message: string } | null;
  createdAt: string;
}

describe.skipIf(!ffmpeg)("managing uploads", () => {
  let app: TestApp;
  let alice: TestClient;
  let bob: TestClient;
  let dir: string;
  let library: string;

  const list = (query: string) => alice.get<{ items: UploadDto[]; total: number; limit: number; offset: number }>(`/api/v1/uploads?library=${library}&${query}`);

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    alice = new TestClient(app.url);
    bob = new TestClient(app.url);
    await alice.signup("alice");
    await bob.signup("bob");
    dir = await mkdtemp(path.join(os.tmpdir(), "upload-management-"));
    library = (await alice.post("/api/v1/libraries", { name: "Stored" })).body.id;
    const good = await readFile(await makeAudio(dir, { name: "good", format: "mp3", tags: { TITLE: "Good", ARTIST: "Fine" } }));
    const other = await readFile(await makeAudio(dir, { name: "other", format: "ogg", tags: { TITLE: "Other", ARTIST: "Fine" } }));
    // Three requests, so creation times differ and "newest first" has one answer.
    await alice.upload(`/api/v1/libraries/${library}/uploads`, [junk("a.mp3"), { name: "good.mp3", data: good }]);
    await alice.upload(`/api/v1/libraries/${library}/uploads`, [junk("b.flac"), junk("c.ogg")]);
    await alice.upload(`/api/v1/libraries/${library}/uploads`, [{ name: "other.ogg", data: other }, junk("d.mp3")]);
    await waitForImports(app.db.pool, library);
  });
  afterAll(async () => {
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("pages through every upload with limit and offset, each page with the total, no overlap and no gap", async () => {
    const seen: string[] = [];
    for (let offset = 0; offset < 8; offset += 2) {
      const page = await list(`limit=2&offset=${offset}`);
      expect(page.status).toBe(200);
      expect(page.body).toMatchObject({ total: 6, limit: 2, offset });
      seen.push(...page.body.items.map((u) => u.id));
    }
    const { rows } = await app.db.pool.query("SELECT id FROM upload WHERE library_id = $1", [library]);
    expect(seen).toHaveLength(6);
    expect(new Set(seen)).toEqual(new Set(rows.map((r) => r.id)));
  });

  it("filters by status, and orders errors first (newest first within each group) with their reasons", async () => {
    const errored = await list("status=errored");
    expect(errored.body.total).toBe(4);
    for (const upload of errored.body.items) expect(upload.error).toEqual({ code: expect.any(String), message: expect.stringMatching(/\w{5}/) });
    expect((await list("status=finished")).body.items.map((u) => u.originalName).sort()).toEqual(["good.mp3", "other.ogg"]);

    const ordered = (await list("order=errors-first")).body.items;
    expect(ordered.map((u) => u.status)).toEqual(["errored", "errored", "errored", "errored", "finished", "finished"]);
    expect(ordered.map((u) => u.originalName)).toEqual(["d.mp3", expect.stringMatching(/^[bc]\./), expect.stringMatching(/^[bc]\./), "a.mp3", "other.ogg", "good.mp3"]);
    expect((await list("order=errors-first&limit=2&offset=4")).body.items.map((u) => u.originalName)).toEqual(["other.ogg", "good.mp3"]);

    const bad = await alice.get(`/api/v1/uploads?library=${library}&order=worst`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid");
  });

  it("retries an errored upload: pending again with its error cleared, then imported again (errored again: still broken)", async () => {
    const [upload] = (await list("status=errored&limit=1")).body.items;
    const retried = await alice.post(`/api/v1/uploads/${upload!.id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ id: upload!.id, status: "pending", error: null });
    await waitForImports(app.db.pool, library);
    const after = (await alice.get(`/api/v1/uploads/${upload!.id}`)).body;
    expect(after).toMatchObject({ status: "errored", error: upload!.error });
  });

  it("refuses to retry an upload that did not fail (409), and answers 404 for others' and missing uploads", async () => {
    const [finished] = (await list("status=finished&limit=1")).body.items;
    const conflict = await alice.post(`/api/v1/uploads/${finished!.id}/retry`);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe("not_errored");

    const [errored] = (await list("status=errored&limit=1")).body.items;
    const others = await bob.post(`/api/v1/uploads/${errored!.id}/retry`);
    const missing = await bob.post("/api/v1/uploads/00000000-0000-4000-8000-000000000000/retry");
    expect(others.status).toBe(404);
    expect(others.body).toEqual(missing.body);
    expect((await alice.post("/api/v1/uploads/not-an-id/retry")).body).toEqual(missing.body);
    expect((await new TestClient(app.url).post(`/api/v1/uploads/${errored!.id}/retry`)).status).toBe(401);
    expect((await alice.get(`/api/v1/uploads/${errored!.id}`)).body.status).toBe("errored");
  });

  it("queues one import when the same retry is sent twice at once", async () => {
    const [errored] = (await list("status=errored&limit=1")).body.items;
    const answers = await Promise.all([1, 2].map(() => alice.post(`/api/v1/uploads/${errored!.id}/retry`)));
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
    await waitForImports(app.db.pool, library);
  });

  it("tells the owner a library's import status: counts by status and whether a scan is queued", async () => {
    const status = await alice.get(`/api/v1/libraries/${library}/import-status`);
    expect(status.status).toBe(200);
    expect(status.body).toEqual({
      scanning: false,
      scanError: null,
      lastScanAt: null,
      counts: { pending: 0, finished: 2, errored: 4, skipped: 0, total: 6 },
      rate: expect.objectContaining({ secondsLeft: null }),
    });
    const others = await bob.get(`/api/v1/libraries/${library}/import-status`);
    expect(others.status).toBe(404);
    expect(others.body).toEqual((await bob.get("/api/v1/libraries/00000000-0000-4000-8000-000000000000/import-status")).body);
  });

  it("retries a folder file after it was fixed, and shows the scan queued until it has run", async () => {
    const music = await mkdtemp(path.join(dir, "music-"));
    await writeFile(path.join(music, "later.mp3"), junk("later.mp3").data);
    const folderLibrary = (await alice.post("/api/v1/libraries", { name: "Folder" })).body.id;
    // A scan waiting for later (as while the worker is busy) counts as queued.
    await app.db.pool.query(
      `SELECT graphile_worker.add_job('scan_library', json_build_object('libraryId', $1::text), queue_name => 'library-scan',
         job_key => 'scan:' || $1::text, run_at => now() + interval '1 hour')`,
      [folderLibrary],
    );
    const statusOf = async () => (await alice.get(`/api/v1/libraries/${folderLibrary}/import-status`)).body;
    expect(await statusOf()).toMatchObject({ scanning: true, lastScanAt: null });

    expect((await alice.request("PATCH", `/api/v1/libraries/${folderLibrary}`, { json: { musicFolder: music } })).status).toBe(200);
    expect((await alice.post(`/api/v1/libraries/${folderLibrary}/scan`)).status).toBe(202);
    await waitUntil(async () => ((await statusOf()).scanning ? undefined : true), { timeout: 30_000 });
    await waitForImports(app.db.pool, folderLibrary);
    const scanned = await statusOf();
    expect(scanned).toMatchObject({ scanning: false, counts: { errored: 1, total: 1 } });
    expect(Date.parse(scanned.lastScanAt)).toBeGreaterThan(Date.now() - 60_000);

    await makeAudio(os.tmpdir(), { name: `fixed-${process.pid}`, format: "mp3", tags: { TITLE: "Fixed", ARTIST: "Later" } }).then(async (file) => {
      await writeFile(path.join(music, "later.mp3"), await readFile(file));
      await rm(file);
    });
    const [upload] = (await alice.get(`/api/v1/uploads?library=${folderLibrary}`)).body.items;
    expect((await alice.post(`/api/v1/uploads/${upload.id}/retry`)).status).toBe(202);
    await waitForImports(app.db.pool, folderLibrary);
    expect((await alice.get(`/api/v1/uploads/${upload.id}`)).body).toMatchObject({ status: "finished", error: null, trackId: expect.any(String) });
    expect((await statusOf()).counts).toEqual({ pending: 0, finished: 1, errored: 0, skipped: 0, total: 1 });
  });
});
