import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig, type AppConfig } from "../../config/env.ts";
import { openDatabase, type Database } from "../../core/db/database.ts";
import { startWebServer, type WebServer } from "../../server/main.ts";
import type { ServerDeps } from "../../server/deps.ts";
import { startWorker, type Worker, type WorkerOptions } from "../../workers/main.ts";
import { createTestDatabase } from "./database.ts";

export const TEST_ORIGIN = "http://polyphony.test";

export interface TestApp {
  /** Where the server really listens (127.0.0.1 and a free port). */
  url: string;
  config: AppConfig;
  db: Database;
  deps: ServerDeps;
  worker: Worker | undefined;
  web: WebServer;
  close(): Promise<void>;
}

/**
 * A real web server (and optionally a worker) on its own fresh database. PUBLIC_URL is a fixed origin,
 * as behind a reverse proxy: ids and links use it, whatever port the test server got.
 */
export async function startTestApp(
  options: { env?: Record<string, string>; worker?: boolean | WorkerOptions } = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "polyphony-app-"));
  const config = loadConfig({
    NODE_ENV: "test",
    DATABASE_URL: database.url,
    HOST: "127.0.0.1",
    PORT: "0",
    PUBLIC_URL: TEST_ORIGIN,
    DATA_DIR: dataDir,
    LOG_LEVEL: "error",
    ...options.env,
  });
  const db = await openDatabase(database.url, 12);
  const web = await startWebServer(config, db);
  const worker = options.worker
    ? await startWorker(config, db, options.worker === true ? {} : options.worker)
    : undefined;
  return {
    url: web.url,
    config,
    db,
    deps: web.deps,
    worker,
    web,
    async close() {
      await web.close();
      await worker?.stop();
      await db.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
