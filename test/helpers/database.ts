import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";
import { openDatabase, type Database } from "../../core/db/database.ts";
import { waitUntil } from "./wait.ts";

const TEMPLATE_DB = "polyphony_template";

/** Clones the migrated template into a fresh database for one test file; returns its URL and a drop function. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const serverUrl = inject("pgServerUrl");
  const name = `test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    // A backend that just disconnected from the template can linger for a moment (55006: still in use).
    await waitUntil(() => admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`).then(
      () => true,
      (error: { code?: string }) => (error.code === "55006" ? false : Promise.reject(error)),
    ), { timeout: 5_000, interval: 100, what: "the template database to be free" });
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * A fresh database for this test file, opened (ORM and pool of `poolSize`) before its tests and closed and
 * dropped after them; `opened` receives it.
 */
export function useTestDatabase(poolSize: number, opened: (db: Database) => void): void {
  let db: Database | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = database.drop;
    db = await openDatabase(database.url, poolSize);
    opened(db);
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });
}
