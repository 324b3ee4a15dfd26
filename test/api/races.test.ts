import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_STREAMS_PER_USER } from "../../server/http/event-streams.ts";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";
import { openEventStream, type EventStream } from "../helpers/sse.ts";
import { rest, tokenParams, type Credentials } from "../subsonic/helpers.ts";
import { waitUntil } from "../helpers/wait.ts";

const AT_ONCE = 6;
const DOOMED_TRACKS = 8;
const statuses = (answers: { status: number }[]) => answers.map((a) => a.status).sort();
const count = async (app: TestApp, sql: string, params: unknown[] = []) => (await app.db.pool.query(sql, params)).rows[0].n as number;

// The same request sent several times at once over real HTTP: what must be unique stays unique, what is
// bounded stays bounded, and the losers get a 4xx, never a 500.
describe.skipIf(!hasFfmpeg())("requests racing each other", () => {
  let app: TestApp;
  let admin: TestClient;
  let alice: TestClient;
  let dir: string;
  let library = "";
  let track = "";
  let errored = "";

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    admin = new TestClient(app.url);
    await admin.signup("olga");
    alice = new TestClient(app.url);
    await alice.signup("alice");
    library = (await alice.post("/api/v1/libraries", { name: "Races" })).body.id;
    dir = await mkdtemp(path.join(os.tmpdir(), "races-"));
    const song = await readFile(await makeAudio(dir, { name: "song", format: "mp3", tags: { TITLE: "Photo Finish", ARTIST: "The Racers" } }));
    await alice.upload(`/api/v1/libraries/${library}/uploads`, [
      { name: "song.mp3", data: song },
      { name: "notes.mp3", data: Buffer.from("liner notes, not music\n".repeat(40)) },
    ]);
    for (let i = 0; i < DOOMED_TRACKS; i++) {
      const file = await makeAudio(dir, { name: `doomed${i}`, format: "mp3", seconds: 0.3, tags: { TITLE: `Doomed ${i}`, ARTIST: "The Doomed", ALBUM: "Gone" } });
      await alice.upload(`/api/v1/libraries/${library}/uploads`, [{ name: `doomed${i}.mp3`, data: await readFile(file) }]);
    }
    await waitForImports(app.db.pool, library);
    track = (await app.db.pool.query("SELECT id FROM track WHERE title = 'Photo Finish'")).rows[0].id;
    errored = (await app.db.pool.query("SELECT id FROM upload WHERE status = 'errored'")).rows[0].id;
    await app.worker!.stop(); // so a retried import stays queued, to be counted
  });
  afterAll(async () => {
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lets one invitation code in once", async () => {
    await admin.request("PATCH", "/api/v1/admin/settings", { json: { registration: "invite" } });
    const { code } = (await admin.post("/api/v1/admin/invites")).body;
    const answers = await Promise.all(
      Array.from({ length: AT_ONCE }, (_, i) => new TestClient(app.url).signup(`guest${i}`, { inviteCode: code })),
    );
    expect(statuses(answers)).toEqual([201, ...Array(AT_ONCE - 1).fill(403)]);
    expect(answers.filter((a) => a.status === 403).map((a) => a.body.error.code)).toEqual(Array(AT_ONCE - 1).fill("invite_invalid"));
    expect(await count(app, "SELECT count(*)::int AS n FROM app_user WHERE username LIKE 'guest%'")).toBe(1);
    await admin.request("PATCH", "/api/v1/admin/settings", { json: { registration: "open" } });
  });

  it("makes one set of Subsonic credentials however many ask or regenerate at once, and the last one works", async () => {
    const carol = new TestClient(app.url);
    await carol.signup("carol");
    const first = await Promise.all(Array.from({ length: AT_ONCE }, () => carol.get<Credentials>("/api/v1/me/subsonic")));
    expect(statuses(first)).toEqual(Array(AT_ONCE).fill(200));
    expect(new Set(first.map((a) => a.body.password)).size).toBe(1);
    const again = await Promise.all(Array.from({ length: AT_ONCE }, () => carol.post<Credentials>("/api/v1/me/subsonic/regenerate")));
    expect(statuses(again)).toEqual(Array(AT_ONCE).fill(200));
    const now = (await carol.get<Credentials>("/api/v1/me/subsonic")).body;
    expect(again.map((a) => a.body.password)).toContain(now.password);
    expect(await count(app, "SELECT count(*)::int AS n FROM subsonic_credential c JOIN app_user u ON u.id = c.user_id WHERE u.username = 'carol'")).toBe(1);
    expect((await rest(app.url, "ping", { ...tokenParams(now), f: "json" })).json.status).toBe("ok");
  });

  it(`opens at most ${MAX_STREAMS_PER_USER} event streams per account when many are opened at once`, async () => {
    const dave = new TestClient(app.url);
    await dave.signup("dave");
    const streams: EventStream[] = await Promise.all(Array.from({ length: MAX_STREAMS_PER_USER + 5 }, () => openEventStream(dave)));
    try {
      expect(statuses(streams)).toEqual([...Array(MAX_STREAMS_PER_USER).fill(200), ...Array(5).fill(429)]);
    } finally {
      for (const stream of streams) stream.close();
    }
  });

  it("retries a failed upload once: one 202 and one queued import, the others a 409", async () => {
    const jobs = () => count(app, "SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE payload::text LIKE '%' || $1 || '%'", [errored]);
    const before = await jobs();
    const answers = await Promise.all(Array.from({ length: AT_ONCE }, () => alice.post(`/api/v1/uploads/${errored}/retry`)));
    expect(statuses(answers)).toEqual([202, ...Array(AT_ONCE - 1).fill(409)]);
    expect(await jobs()).toBe(before + 1);
  });

  it("keeps one favourite, one rating and one listen for the same thing asked at once", async () => {
    const bulk = <T>(send: () => Promise<T>) => Promise.all(Array.from({ length: AT_ONCE }, send));
    expect(statuses(await bulk(() => alice.request("PUT", `/api/v1/favorites/tracks/${track}`)))).toEqual(Array(AT_ONCE).fill(204));
    expect(statuses(await bulk(() => alice.request("PUT", `/api/v1/ratings/tracks/${track}`, { json: { rating: 4 } })))).toEqual(Array(AT_ONCE).fill(200));
    const creds = (await alice.get<Credentials>("/api/v1/me/subsonic")).body;
    const time = String(Date.now() - 60_000);
    const scrobbles = await bulk(() => rest(app.url, "scrobble", { ...tokenParams(creds), f: "json", id: track, time }));
    expect(scrobbles.map((a) => a.json.status)).toEqual(Array(AT_ONCE).fill("ok"));
    expect(await count(app, "SELECT count(*)::int AS n FROM favorite")).toBe(1);
    expect(await count(app, "SELECT count(*)::int AS n FROM rating")).toBe(1);
    expect(await count(app, "SELECT count(*)::int AS n FROM listen")).toBe(1);
    expect(await count(app, "SELECT play_count AS n FROM play_stat")).toBe(1);
  });

  it("deletes a token, an upload, a library, a playlist and an album once: one success, the others a 404", async () => {
    const token = (await alice.post("/api/v1/tokens", { name: "once" })).body.id;
    const other = (await alice.post("/api/v1/libraries", { name: "Doomed" })).body.id;
    const playlist = (await alice.post("/api/v1/playlists", { name: "Doomed" })).body.id;
    const album = (await app.db.pool.query("SELECT album_id FROM track WHERE id = $1", [track])).rows[0].album_id;
    const urls = [`/api/v1/tokens/${token}`, `/api/v1/uploads/${errored}`, `/api/v1/libraries/${other}`, `/api/v1/playlists/${playlist}`, `/api/v1/albums/${album}`];
    for (const url of urls) {
      const answers = await Promise.all(Array.from({ length: AT_ONCE }, () => alice.request("DELETE", url)));
      expect(statuses(answers), url).toEqual([204, ...Array(AT_ONCE - 1).fill(404)]);
    }
  });

  it("answers an upload into a library deleted while the file arrives with the library's 404, keeping nothing", async () => {
    const doomed = (await alice.post("/api/v1/libraries", { name: "Deleted mid-upload" })).body.id;
    const boundary = "----deleted-mid-upload";
    const encoder = new TextEncoder();
    let body!: ReadableStreamDefaultController<Uint8Array>;
    const sent = fetch(new URL(`/api/v1/libraries/${doomed}/uploads`, app.url), {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, cookie: alice.cookie!, "x-csrf-token": alice.csrfToken! },
      body: new ReadableStream<Uint8Array>({ start: (controller) => void (body = controller) }),
      duplex: "half",
    } as RequestInit);
    body.enqueue(encoder.encode(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="late.mp3"\r\n\r\n${"x".repeat(4096)}`));
    // The request got past its library check (its batch is there): now the library goes.
    await waitUntil(async () => (await count(app, "SELECT count(*)::int AS n FROM import_batch WHERE library_id = $1", [doomed])) === 1 || undefined);
    expect((await alice.request("DELETE", `/api/v1/libraries/${doomed}`)).status).toBe(204);
    body.enqueue(encoder.encode(`${"x".repeat(4096)}\r\n--${boundary}--\r\n`));
    body.close();
    const answer = await sent;
    expect(answer.status).toBe(404);
    expect(await answer.json()).toEqual({ error: { code: "not_found", message: "The library was not found" } });
    expect(await count(app, "SELECT count(*)::int AS n FROM upload WHERE library_id = $1", [doomed])).toBe(0);
    expect(await readdir(path.join(app.config.mediaDir, "uploads", doomed)).catch(() => [])).toEqual([]);
  });

  it("deletes, with its file, an upload that commits while its library is being deleted", async () => {
    const doomed = (await alice.post("/api/v1/libraries", { name: "Deleted mid-commit" })).body.id;
    const relative = path.join("uploads", doomed, "late.mp3");
    await mkdir(path.dirname(path.join(app.config.mediaDir, relative)), { recursive: true });
    await writeFile(path.join(app.config.mediaDir, relative), "late");
    // An upload's own transaction (UploadsService.receive), held open while the library's delete starts.
    const upload = await app.db.pool.connect();
    try {
      await upload.query("BEGIN");
      await upload.query(
        "INSERT INTO upload (id, library_id, storage, path, original_name, size, checksum) VALUES (gen_random_uuid(), $1, 'stored', $2, 'late.mp3', 4, 'x')",
        [doomed, relative],
      );
      const deleting = alice.request("DELETE", `/api/v1/libraries/${doomed}`);
      await waitUntil(async () => (await count(app, "SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted")) > 0 || undefined);
      await upload.query("COMMIT");
      expect((await deleting).status).toBe(204);
    } finally {
      upload.release();
    }
    expect(await count(app, "SELECT count(*)::int AS n FROM upload WHERE library_id = $1", [doomed])).toBe(0);
    expect(await readdir(path.join(app.config.mediaDir, "uploads", doomed))).toEqual([]);
  });

  it("answers a write naming a track deleted at that very moment like a missing track, not with a 500", async () => {
    const doomed: string[] = (await app.db.pool.query("SELECT id FROM track WHERE title LIKE 'Doomed %' ORDER BY title")).rows.map((r) => r.id);
    const creds = (await alice.get<Credentials>("/api/v1/me/subsonic")).body;
    const subsonic = (method: string, params: Record<string, string>) => async () =>
      (await rest(app.url, method, { ...tokenParams(creds), f: "json", ...params })).json.error ?? "ok";
    const playlist = (await alice.post("/api/v1/playlists", { name: "Late" })).body.id;
    const restWrite = (send: () => Promise<{ status: number; body: { error?: { code: string; message: string } } }>) => async () => {
      const { status, body } = await send();
      return { status, code: body.error?.code, message: body.error?.message };
    };
    const gone = { status: 404, code: "not_found", message: "The track was not found" };
    const writes: [string, (id: string) => () => Promise<unknown>, unknown][] = [
      ["favourite", (id) => restWrite(() => alice.request("PUT", `/api/v1/favorites/tracks/${id}`)), gone],
      ["rating", (id) => restWrite(() => alice.request("PUT", `/api/v1/ratings/tracks/${id}`, { json: { rating: 2 } })), gone],
      ["play", (id) => restWrite(() => alice.post(`/api/v1/tracks/${id}/plays`)), gone],
      ["playlist item", (id) => restWrite(() => alice.post(`/api/v1/playlists/${playlist}/items`, { trackIds: [id] })), gone],
      ["star", (id) => subsonic("star", { id }), { code: 70, message: "The track was not found" }],
      ["now playing", (id) => subsonic("scrobble", { id, submission: "false" }), { code: 70, message: "The track was not found" }],
      ["play queue", (id) => subsonic("savePlayQueue", { id }), { code: 70, message: "The track was not found" }],
      ["new playlist", (id) => subsonic("createPlaylist", { name: "Late too", songId: id }), { code: 70, message: "The track was not found" }],
    ];
    expect(doomed).toHaveLength(writes.length);
    for (const [i, [what, write, expected]] of writes.entries()) {
      // The track's deletion (its last upload's, UploadsService's deletions) holds its row while the write checks it.
      const deletion = await app.db.pool.connect();
      try {
        await deletion.query("BEGIN");
        await deletion.query("DELETE FROM track WHERE id = $1", [doomed[i]]);
        const answer = write(doomed[i]!)();
        await waitUntil(async () => (await count(app, "SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted")) > 0 || undefined);
        await deletion.query("COMMIT");
        expect(await answer, what).toEqual(expected);
      } finally {
        deletion.release();
      }
    }
    expect((await alice.get(`/api/v1/playlists/${playlist}`)).body.itemCount).toBe(0);
    expect(await count(app, "SELECT count(*)::int AS n FROM playlist WHERE name = 'Late too'")).toBe(0);
  });

  it("never leaves the instance without an enabled administrator when two demote or disable each other at once", async () => {
    const second = new TestClient(app.url);
    const bertha = (await second.signup("bertha")).body.user.id;
    await admin.request("PATCH", `/api/v1/admin/users/${bertha}`, { json: { role: "admin" } });
    const olga = (await admin.get("/api/v1/me")).body.user.id;
    for (const change of [{ role: "user" }, { disabled: true }]) {
      const answers = await Promise.all([
        admin.request("PATCH", `/api/v1/admin/users/${bertha}`, { json: change }),
        second.request("PATCH", `/api/v1/admin/users/${olga}`, { json: change }),
      ]);
      expect(statuses(answers), JSON.stringify(change)).toEqual([200, 403]);
      expect(await count(app, "SELECT count(*)::int AS n FROM app_user WHERE role = 'admin' AND disabled_at IS NULL")).toBe(1);
      // Put things back: whoever won made the other an ordinary (or disabled, so logged out) user.
      const [winner, loser] = answers[0]!.status === 200 ? [admin, bertha] : [second, olga];
      await winner.request("PATCH", `/api/v1/admin/users/${loser}`, { json: { role: "admin", disabled: false } });
      if (loser === olga) await admin.login("olga");
      else await second.login("bertha");
    }
  });
});
