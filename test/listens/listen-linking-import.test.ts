import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";

// Listens kept under their own names are linked by the importer, in the transaction that finishes the
// upload, once their track is imported (a real upload through the worker).
describe.skipIf(!hasFfmpeg())("listens linked when their track is imported", () => {
  let app: TestApp;
  let client: TestClient;
  let dir: string;

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    client = new TestClient(app.url);
    await client.signup("alice");
    dir = await mkdtemp(path.join(os.tmpdir(), "listen-linking-"));
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("links an unmatched listen, counts its play and its genre", async () => {
    const userId = (await app.db.pool.query("SELECT id FROM app_user WHERE username = 'alice'")).rows[0].id;
    const at = new Date(Date.now() - 3_600_000);
    await app.deps.listenIngest.submit(userId, [{ listenedAt: at, artistName: "Air", trackName: "Remember" }], "listenbrainz");
    expect((await app.db.pool.query("SELECT track_id FROM listen")).rows).toEqual([{ track_id: null }]);

    const library = (await client.post("/api/v1/libraries", { name: "Mine" })).body.id;
    const audio = await readFile(await makeAudio(dir, { name: "remember", format: "mp3", tags: { TITLE: "Remember", ARTIST: "Air", ALBUM: "Moon Safari", GENRE: "Downtempo" } }));
    expect((await client.upload(`/api/v1/libraries/${library}/uploads`, [{ name: "remember.mp3", data: audio }])).status).toBeLessThan(300);
    await waitForImports(app.db.pool, library);

    const { rows } = await app.db.pool.query("SELECT l.track_id, t.title FROM listen l LEFT JOIN track t ON t.id = l.track_id");
    expect(rows).toEqual([{ track_id: expect.any(String), title: "Remember" }]);
    const plays = await app.db.pool.query("SELECT play_count FROM play_stat WHERE user_id = $1", [userId]);
    expect(plays.rows).toEqual([{ play_count: 1 }]);
    const genres = await app.deps.listenStats.top(userId, "genre", "all_time", { count: 5, offset: 0 });
    expect(genres.entities.map((g) => [g.name, g.listenCount])).toEqual([["Downtempo", 1]]);
  });
});
