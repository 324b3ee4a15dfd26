import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { scanFolder } from "../../core/library/folder-scanner.ts";
import { Importer } from "../../core/library/importer.ts";
import { serverDirs } from "../../core/library/music-folder.ts";
import { TagReaderPool } from "../../core/media/tag-reader-pool.ts";
import { UnreadableAudio } from "../../core/media/tag-reader.ts";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";

// Tags are read on threads (issue 19). A thread that dies or hangs on a file fails that file with a
// reason and nothing else: the rest of its chunk imports, and the next file gets a new thread. The
// misbehaving thread is the real reader behind a listener that crashes or hangs on cue (by file name).
const MISBEHAVING = new URL("../fixtures/misbehaving-tag-reader.worker.ts", import.meta.url);

describe.skipIf(!hasFfmpeg())("tag reader threads", () => {
  let app: TestApp;
  let music: string;
  let libraryId: string;
  beforeAll(async () => {
    app = await startTestApp(); // no worker: the test runs the importer
    music = await mkdtemp(path.join(os.tmpdir(), "reader-threads-"));
    const names = ["01 Fine", "02 crash", "03 Also fine", "04 hang", "05 Still fine"];
    for (const [n, name] of names.entries()) {
      await makeAudio(music, { name, format: "mp3", seconds: 1, tags: { ALBUM: "Threads", ARTIST: "Pool", TITLE: name, TRACKNUMBER: String(n + 1) } });
    }
    const owner = new TestClient(app.url);
    await owner.signup("pool");
    libraryId = (await owner.post("/api/v1/libraries", { name: "NAS", musicFolder: music })).body.id;
  });
  afterAll(async () => {
    await app?.close();
    await rm(music, { recursive: true, force: true });
  });

  it("fails only the file whose thread crashed or hung, with a reason, and imports the rest of the chunk", async () => {
    await scanFolder(
      { pool: app.db.pool, orm: app.db.orm, uploads: app.deps.uploads, coversDir: path.join(app.config.mediaDir, "covers"), serverDirs: serverDirs(app.config) },
      libraryId,
      music,
    );
    const { rows: pending } = await app.db.pool.query<{ id: string }>("SELECT id FROM upload WHERE library_id = $1", [libraryId]);
    const reader = new TagReaderPool({ size: 1, script: MISBEHAVING, timeoutMs: 2_000 });
    const importer = new Importer({ pool: app.db.pool, orm: app.db.orm, mediaDir: app.config.mediaDir, reader });
    await importer.importUploads(pending.map((r) => r.id));

    const { rows } = await app.db.pool.query<{ original_name: string; status: string; error_code: string | null; error_message: string | null }>(
      "SELECT original_name, status, error_code, error_message FROM upload WHERE library_id = $1 ORDER BY original_name",
      [libraryId],
    );
    expect(rows.map((r) => [r.original_name, r.status, r.error_code])).toEqual([
      ["01 Fine.mp3", "finished", null],
      ["02 crash.mp3", "errored", "unreadable_audio"],
      ["03 Also fine.mp3", "finished", null],
      ["04 hang.mp3", "errored", "unreadable_audio"],
      ["05 Still fine.mp3", "finished", null],
    ]);
    expect(rows[1]!.error_message).toBe("Reading this file stopped the tag reader (it exited with code 3): the file is probably damaged");
    expect(rows[3]!.error_message).toBe("Reading this file stopped the tag reader (it took longer than 2 s): the file is probably damaged");

    expect(reader.threads).toBe(1);
    await importer.close();
    expect(reader.threads).toBe(0);
    await expect(reader.read({ file: path.join(music, "01 Fine.mp3"), root: music, skipPictures: true, hash: true })).rejects.toThrow("closed");
  });

  it("replaces a thread whose heap has grown once it is idle, and reads on with a new one", async () => {
    const reader = new TagReaderPool({ size: 1, recycleHeapBytes: 1 }); // every thread has grown past 1 byte
    try {
      const read = (name: string) => reader.read({ file: path.join(music, name), root: music, skipPictures: true, hash: true });
      const first = await read("01 Fine.mp3");
      await vi.waitFor(() => expect(reader.threads).toBe(0), { timeout: 5_000 });
      const again = await read("01 Fine.mp3");
      expect(again.tags.title).toBe("01 Fine");
      expect(again.checksum).toBe(first.checksum);
    } finally {
      await reader.close();
    }
  });

  it("reads a file for its pictures before the files waiting for their tags alone", async () => {
    const reader = new TagReaderPool({ size: 1 });
    try {
      const done: string[] = [];
      const read = (name: string, skipPictures: boolean) =>
        reader.read({ file: path.join(music, name), root: music, skipPictures, hash: false }).then(() => void done.push(`${name} ${skipPictures ? "tags" : "pictures"}`));
      // The thread takes the first at once; the pictures' read is queued last and read second.
      await Promise.all([read("01 Fine.mp3", true), read("03 Also fine.mp3", true), read("05 Still fine.mp3", true), read("01 Fine.mp3", false)]);
      expect(done).toEqual(["01 Fine.mp3 tags", "01 Fine.mp3 pictures", "03 Also fine.mp3 tags", "05 Still fine.mp3 tags"]);
    } finally {
      await reader.close();
    }
  });

  it("blames a reader that cannot start on the server, not on the file", async () => {
    const reader = new TagReaderPool({ size: 1, script: new URL("data:text/javascript,throw new Error('a broken install')") });
    try {
      const read = reader.read({ file: path.join(music, "01 Fine.mp3"), root: music, skipPictures: true, hash: true });
      await expect(read).rejects.toThrow("The tag reader could not start: a broken install");
      await expect(read).rejects.not.toBeInstanceOf(UnreadableAudio);
    } finally {
      await reader.close();
    }
  });

  it("reads tags and the checksum on a thread, with the file's bytes handed back", async () => {
    const reader = new TagReaderPool({ size: 2 });
    try {
      const file = path.join(music, "01 Fine.mp3");
      const fromPath = await reader.read({ file, root: music, skipPictures: true, hash: true });
      const { readFile } = await import("node:fs/promises");
      const bytes = new Uint8Array(await readFile(file));
      const size = bytes.byteLength;
      const fromBytes = await reader.read({ file, root: music, bytes, skipPictures: true, hash: true });
      expect(fromBytes.tags).toMatchObject({ title: "01 Fine", album: "Threads", trackNumber: 1 });
      expect(fromBytes.tags).toEqual(fromPath.tags);
      expect(fromBytes.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(fromBytes.checksum).toBe(fromPath.checksum);
      expect(fromBytes.bytes?.byteLength).toBe(size);
      expect(bytes.byteLength).toBe(0); // moved to the thread, not copied
    } finally {
      await reader.close();
    }
  });

  it("reads a file whole on a thread through the caller's open descriptor, its bytes kept there", async () => {
    const reader = new TagReaderPool({ size: 1 });
    const { copyFile, open } = await import("node:fs/promises");
    const fine = path.join(music, "01 Fine.mp3");
    const gone = path.join(music, "Gone.mp3");
    await copyFile(fine, gone);
    const handle = await open(gone);
    try {
      const fromPath = await reader.read({ file: fine, root: music, skipPictures: true, hash: true });
      const { size } = await handle.stat();
      // Removed after it was opened: only the descriptor still reads it (the thread opens no path).
      await rm(gone);
      const fromDescriptor = await reader.read({ file: gone, root: music, opened: { fd: handle.fd, size }, skipPictures: true, hash: true });
      expect(fromDescriptor.tags).toMatchObject({ album: fromPath.tags.album, trackNumber: fromPath.tags.trackNumber, durationSeconds: fromPath.tags.durationSeconds });
      expect(fromDescriptor.checksum).toBe(fromPath.checksum);
      expect(fromDescriptor.bytes).toBeUndefined();
    } finally {
      await handle.close();
      await rm(gone, { force: true });
      await reader.close();
    }
  });
});
