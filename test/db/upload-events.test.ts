import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseUploadNotification, UPLOAD_EVENTS_CHANNEL } from "../../core/library/upload-events.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitUntil } from "../helpers/wait.ts";

let app: TestApp;
let listener: pg.Client;
let library: string;
let ownerId: string;
const payloads: string[] = [];
// Another channel, so the web process's own listener never sees the markers.
const MARKER_CHANNEL = "upload_events_test_marker";

beforeAll(async () => {
  app = await startTestApp();
  const owner = new TestClient(app.url);
  ownerId = (await owner.signup("olga")).body.user.id;
  library = (await owner.post("/api/v1/libraries", { name: "Bulk" })).body.id;
  listener = new pg.Client({ connectionString: app.config.database.url });
  await listener.connect();
  listener.on("notification", (message) => payloads.push(message.payload ?? ""));
  await listener.query(`LISTEN ${UPLOAD_EVENTS_CHANNEL}`);
  await listener.query(`LISTEN ${MARKER_CHANNEL}`);
});
afterAll(async () => {
  await listener?.end();
  await app?.close();
});

/** Notifications are delivered in commit order, whatever their channel: a marker sent after a statement arrives after its own. */
async function notificationsOf(statement: string, values: unknown[] = []): Promise<string[]> {
  const marker = `marker-${payloads.length}-${Math.random()}`;
  const before = payloads.length;
  await app.db.pool.query(statement, values);
  await app.db.pool.query("SELECT pg_notify($1, $2)", [MARKER_CHANNEL, marker]);
  await waitUntil(() => payloads.includes(marker) || undefined);
  return payloads.slice(before, payloads.indexOf(marker));
}

describe("the upload events trigger (migration 0008)", () => {
  it("announces a bulk insert in notifications of at most 32 rows, each well under NOTIFY's 8000 bytes", async () => {
    const sent = await notificationsOf(
      `INSERT INTO upload (id, library_id, storage, path, original_name, size)
       SELECT gen_random_uuid(), $1, 'in_place', '/music/' || g || '.flac', g || '.flac', 1 FROM generate_series(1, 100) g`,
      [library],
    );
    expect(sent).toHaveLength(4);
    for (const payload of sent) expect(Buffer.byteLength(payload)).toBeLessThan(5000);
    const decoded = sent.map(parseUploadNotification);
    expect(decoded.map((n) => n.events.length).sort((a, b) => a - b)).toEqual([4, 32, 32, 32]);
    const events = decoded.flatMap((n) => n.events);
    expect(new Set(events.map((e) => e.id)).size).toBe(100);
    expect(decoded.every((n) => n.ownerId === ownerId)).toBe(true);
    expect(events[0]).toEqual({ id: expect.any(String), libraryId: library, batchId: null, status: "pending", error: null, trackId: null });
  });

  it("announces status changes only", async () => {
    const unchanged = await notificationsOf("UPDATE upload SET size = 2 WHERE library_id = $1", [library]);
    expect(unchanged).toEqual([]);
    const changed = await notificationsOf(
      `UPDATE upload SET status = 'errored', error_code = 'not_audio', error_message = 'Not audio'
       WHERE id IN (SELECT id FROM upload WHERE library_id = $1 ORDER BY path LIMIT 3)`,
      [library],
    );
    expect(changed).toHaveLength(1);
    expect(parseUploadNotification(changed[0]!).events.map((e) => e.status)).toEqual(["errored", "errored", "errored"]);
    expect(await notificationsOf("DELETE FROM upload WHERE library_id = $1", [library])).toEqual([]);
  });
});
