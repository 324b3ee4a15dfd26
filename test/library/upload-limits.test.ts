import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";

const MiB = 1024 * 1024;

/** Bytes of every file under `dir` (none when it does not exist). */
async function bytesUnder(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const entry of entries) if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  return total;
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
