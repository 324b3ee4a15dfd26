import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio, makeCoverImage } from "../fixtures/audio.ts";
import { pngBomb } from "../fixtures/images.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { catalogSnapshot, waitForImports } from "../helpers/imports.ts";

const ffmpeg = hasFfmpeg();

/** An ID3v2.4 tag holding one TXXX frame of `bytes` bytes, in front of real MPEG audio. */
function withGiantTag(mp3: Buffer, bytes: number): Buffer {
  const syncsafe = (n: number) => Buffer.from([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f]);
  const body = Buffer.concat([Buffer.from([3]), Buffer.from("NOTES\0"), Buffer.alloc(bytes, 0x61)]);
  const frame = Buffer.concat([Buffer.from("TXXX"), syncsafe(body.length), Buffer.from([0, 0]), body]);
  return Buffer.concat([Buffer.from("ID3"), Buffer.from([4, 0, 0]), syncsafe(frame.length), frame, mp3]);
}

describe.skipIf(!ffmpeg)("bad input to the importer", () => {
  let app: TestApp;
  let client: TestClient;
  let library: string;
  let dir: string;
  let good: Buffer;
  let before: unknown[];

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    client = new TestClient(app.url);
    await client.signup("tester");
    library = (await client.post("/api/v1/libraries", { name: "Mixed bag" })).body.id;
    dir = await mkdtemp(path.join(os.tmpdir(), "bad-input-"));
    good = await readFile(await makeAudio(dir, { name: "good", format: "mp3", tags: { TITLE: "Fine", ARTIST: "Okay", ALBUM: "Safe" } }));
    await client.upload(`/api/v1/libraries/${library}/uploads`, [{ name: "good.mp3", data: good }]);
    await waitForImports(app.db.pool, library);
    before = await catalogSnapshot(app.db.pool);
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("ends each bad file errored with a reason a person can act on, and touches nothing already imported", async () => {
    const flac = await readFile(await makeAudio(dir, { name: "whole", format: "flac", seconds: 3, tags: { TITLE: "Cut" } }));
    const plain = await readFile(await makeAudio(dir, { name: "plain", format: "mp3", tags: {} }));
    const bombed = await readFile(await makeAudio(dir, { name: "bomb", format: "mp3", cover: await pngBomb(60000, 60000),
      tags: { TITLE: "Bomb", ARTIST: "Boom" } }));
    const bad = [
      { name: "empty.mp3", data: new Uint8Array(0) },
      { name: "cut.flac", data: flac.subarray(0, Math.floor(flac.length / 3)) },
      { name: "picture.mp3", data: await makeCoverImage(32, 32, "png") },
      { name: "notes.flac", data: Buffer.from("These are my liner notes, not music.\n".repeat(50)) },
      { name: "song.xyz", data: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)) },
      { name: "giant-tag.mp3", data: withGiantTag(plain, 40 * 1024 * 1024) },
      { name: "bomb-cover.mp3", data: bombed },
    ];
    const res = await client.upload(`/api/v1/libraries/${library}/uploads`, bad);
    expect(res.status).toBe(201);
    await waitForImports(app.db.pool, library);
    const list = await client.get(`/api/v1/uploads?library=${library}&status=errored&limit=50`);
    const byName = Object.fromEntries(list.body.items.map((u: { originalName: string; error: object }) => [u.originalName, u.error]));
    expect(byName["empty.mp3"]).toEqual({ code: "empty_file", message: "The file is empty (0 bytes); copy or upload it again" });
    expect(byName["cut.flac"].code).toMatch(/^(truncated|unreadable_audio)$/);
    expect(byName["cut.flac"].message).toMatch(/cut short|damaged/);
    expect(byName["picture.mp3"]).toMatchObject({ code: "not_audio", message: expect.stringMatching(/PNG image/) });
    expect(byName["notes.flac"].code).toMatch(/^(not_audio|unreadable_audio)$/);
    expect(byName["song.xyz"].code).toMatch(/^(unsupported_format|not_audio)$/);
    expect(byName["giant-tag.mp3"].code).toBe("oversized_tags");
    expect(byName["bomb-cover.mp3"]).toMatchObject({ code: "invalid_image", message: expect.stringMatching(/60000x60000 pixels/) });
    expect(Object.keys(byName)).toHaveLength(7);
    expect(await catalogSnapshot(app.db.pool)).toEqual(before);
  });

  it("keeps the worker alive: the next good file still imports", async () => {
    const next = await readFile(await makeAudio(dir, { name: "next", format: "ogg", tags: { TITLE: "Still here", ARTIST: "Okay", ALBUM: "Safe" } }));
    const res = await client.upload(`/api/v1/libraries/${library}/uploads`, [{ name: "next.ogg", data: next }]);
    await waitForImports(app.db.pool, library);
    expect((await client.get(`/api/v1/uploads/${res.body.uploads[0].id}`)).body.status).toBe("finished");
    const titles = (await catalogSnapshot(app.db.pool)).map((t) => t.title);
    expect(titles).toEqual(["Fine", "Still here"]);
  });
});
