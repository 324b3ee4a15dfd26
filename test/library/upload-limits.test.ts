import { readdir, stat } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitUntil } from "../helpers/wait.ts";

const MiB = 1024 * 1024;

/** Bytes of every file under `dir` (none when it does not exist). */
async function bytesUnder(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const entry of entries) if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  return total;
}

/** Files being received (`.part`) under the uploads folder. */
async function partFiles(mediaDir: string): Promise<string[]> {
  const entries = await readdir(path.join(mediaDir, "uploads"), { recursive: true }).catch(() => []);
  return entries.filter((name) => name.endsWith(".part"));
}

// Limits that must hold however a client sends its files: several requests at once, or too many files.
describe("upload limits", () => {
  let app: TestApp;
  let alice: TestClient;
  let library: string;

  beforeAll(async () => {
    app = await startTestApp({ env: { MAX_UPLOAD_MB: "1", USER_QUOTA_MB: "1" } });
    alice = new TestClient(app.url);
    await alice.signup("alice");
    library = (await alice.post("/api/v1/libraries", { name: "Main" })).body.id;
  });
  afterAll(async () => {
    await app?.close();
  });

  it("keeps parallel uploads within the quota together", async () => {
    const file = (i: number) => ({ name: `part-${i}.mp3`, data: new Uint8Array(300_000).fill(i) });
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => alice.upload(`/api/v1/libraries/${library}/uploads`, [file(i)])),
    );
    const accepted = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status !== 201);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    expect(accepted.length).toBeLessThanOrEqual(3);
    for (const answer of refused) {
      expect(answer.status).toBe(413);
      expect(answer.body.error.code).toBe("quota_exceeded");
    }
    const { rows } = await app.db.pool.query("SELECT coalesce(sum(size), 0)::int AS bytes, count(*)::int AS n FROM upload");
    expect(rows[0]).toEqual({ bytes: accepted.length * 300_000, n: accepted.length });
    expect(rows[0].bytes).toBeLessThanOrEqual(MiB);
    expect(await bytesUnder(path.join(app.config.mediaDir, "uploads"))).toBe(rows[0].bytes);
    const reservations = await app.db.pool.query("SELECT count(*)::int AS n FROM upload_reservation");
    expect(reservations.rows[0].n).toBe(0);
  });

  it("leaves no reservation behind when the upload is cut while its space is being reserved", async () => {
    // A user with the whole quota free: the first bytes reserve one step, in one transaction.
    const bob = new TestClient(app.url);
    const owner = (await bob.signup("bob")).body.user.id;
    const bobsLibrary = (await bob.post("/api/v1/libraries", { name: "Bob's" })).body.id;
    const advisoryLocks = async () => (await app.db.pool.query("SELECT granted FROM pg_locks WHERE locktype = 'advisory'")).rows;
    // Holding the owner's quota lock parks the server's reservation of the file's first bytes.
    const lock = await app.db.pool.connect();
    const key = "hashtextextended('upload-quota:' || $1, 0)";
    await lock.query(`SELECT pg_advisory_lock(${key})`, [owner]);
    try {
      const { port } = new URL(app.url);
      const socket = net.connect(Number(port), "127.0.0.1");
      socket.on("error", () => {}); // we reset it ourselves
      const part = `--cut\r\nContent-Disposition: form-data; name="files"; filename="cut.mp3"\r\n\r\n`;
      socket.write([`POST /api/v1/libraries/${bobsLibrary}/uploads HTTP/1.1`, `Host: 127.0.0.1:${port}`, `Cookie: ${bob.cookie}`,
        `X-CSRF-Token: ${bob.csrfToken}`, "Content-Type: multipart/form-data; boundary=cut", "Content-Length: 900000", "", part].join("\r\n"));
      socket.write(Buffer.alloc(64 * 1024, 7));
      await waitUntil(async () => (await advisoryLocks()).some((l) => !l.granted) || undefined);
      socket.resetAndDestroy();
      // The server gives the cut file up (its .part goes) while its reservation still waits for the lock.
      await waitUntil(async () => (await partFiles(app.config.mediaDir)).length === 0 || undefined);
    } finally {
      await lock.query(`SELECT pg_advisory_unlock(${key})`, [owner]);
      lock.release();
    }
    // The parked reservation has committed once no advisory lock is left; then it must be let go.
    await waitUntil(async () => (await advisoryLocks()).length === 0 || undefined);
    const leftovers = async () => (await app.db.pool.query(
      `SELECT (SELECT count(*) FROM upload_reservation)::int AS reservations,
        (SELECT count(*) FROM import_batch b WHERE NOT EXISTS (SELECT 1 FROM upload u WHERE u.batch_id = b.id))::int AS empty_batches`,
    )).rows[0];
    // The request gives its batch up after the parked reservation settles: wait for both, then say which is left.
    await waitUntil(async () => {
      const left = await leftovers();
      return (left.reservations === 0 && left.empty_batches === 0) || undefined;
    }, { timeout: 15_000 }).catch(() => {});
    expect(await leftovers()).toEqual({ reservations: 0, empty_batches: 0 });
  });

  it("takes the first 200 files of a request and lists exactly those as kept", async () => {
    const files = Array.from({ length: 203 }, (_, i) => ({ name: `tiny-${i}.mp3`, data: new Uint8Array(10).fill(i) }));
    const answer = await alice.upload(`/api/v1/libraries/${library}/uploads`, files);
    expect(answer.status).toBe(201);
    expect(answer.body.uploads.map((u: { originalName: string }) => u.originalName)).toEqual(files.slice(0, 200).map((f) => f.name));
    expect(answer.body.rejected).toEqual([{ code: "too_many_files", message: expect.stringContaining("first 200 files") }]);
    const { rows } = await app.db.pool.query("SELECT count(*)::int AS n FROM upload WHERE batch_id = $1", [answer.body.batchId]);
    expect(rows[0].n).toBe(200);
  });
});
