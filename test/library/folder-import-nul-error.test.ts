import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";
import { waitUntil } from "../helpers/wait.ts";

const ffmpeg = hasFfmpeg();

function box(type: Buffer | string, body: Buffer, declaredLength = 8 + body.length): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(declaredLength);
  Buffer.from(type).copy(header, 4);
  return Buffer.concat([header, body]);
}

/**
 * 128 bytes: ftyp, an empty moov, then a box whose type is four zero bytes and whose length runs past
 * the end. The reason the importer gives names that box type: four NUL characters, which PostgreSQL's
 * text type refuses.
 */
function mp4WithZeroBoxType(): Buffer {
  const ftyp = box("ftyp", Buffer.concat([Buffer.from("M4A "), Buffer.alloc(4), Buffer.from("M4A isomiso2")]));
  const moov = box("moov", Buffer.alloc(0));
  const rest = 128 - ftyp.length - moov.length;
  return Buffer.concat([ftyp, moov, box(Buffer.alloc(4), Buffer.alloc(rest - 8), 4096)]);
}

describe.skipIf(!ffmpeg)("a folder import with a file whose error text holds NUL characters", () => {
  let app: TestApp;
  let music: string;
  let libraryId: string;

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    const admin = new TestClient(app.url);
    await admin.signup("curator");
    music = await mkdtemp(path.join(os.tmpdir(), "music-nul-"));
    for (const n of [1, 2, 3, 4, 5]) {
      await makeAudio(music, { name: `0${n} Song`, format: "mp3", seconds: 1,
        tags: { ALBUM: "Beside", ALBUMARTIST: "Neighbours", ARTIST: "Neighbours", TITLE: `Song ${n}`, TRACKNUMBER: String(n) } });
    }
    const bad = mp4WithZeroBoxType();
    expect(bad.length).toBe(128);
    await writeFile(path.join(music, "03b Broken.m4a"), bad);
    libraryId = (await admin.post("/api/v1/libraries", { name: "NAS", musicFolder: music })).body.id;
    // The scan finds all six files, then the worker imports them.
    await waitUntil(async () => (await app.db.pool.query("SELECT 1 FROM upload WHERE library_id = $1", [libraryId])).rowCount === 6 || undefined);
    await waitForImports(app.db.pool, libraryId, 30_000);
  });
  afterAll(async () => {
    await app?.close();
    await rm(music, { recursive: true, force: true });
  });

  it("imports the good files of the chunk and errors only the bad one, with a readable reason", async () => {
    const { rows } = await app.db.pool.query(
      "SELECT original_name, status, error_code, error_message FROM upload WHERE library_id = $1 ORDER BY original_name",
      [libraryId],
    );
    expect(rows.filter((r) => r.status === "finished").map((r) => r.original_name)).toEqual(
      ["01 Song.mp3", "02 Song.mp3", "03 Song.mp3", "04 Song.mp3", "05 Song.mp3"],
    );
    const broken = rows.find((r) => r.original_name === "03b Broken.m4a");
    expect(broken).toMatchObject({ status: "errored", error_code: "truncated" });
    expect(broken.error_message).not.toMatch(/\p{Cc}/u);
    expect(broken.error_message).toBe(
      "The file is cut short or damaged: the MP4 '\\x00\\x00\\x00\\x00' box needs 4096 bytes, the file holds 92; copy or upload it again",
    );
  });
});
