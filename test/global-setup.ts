import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { configureLogging } from "../config/logging.ts";
import { openDatabase } from "../core/db/database.ts";
import { EmbeddedPostgres } from "../core/db/embedded-postgres.ts";
import { migrate } from "../core/db/migrate.ts";
import { installJobQueueSchema } from "../workers/main.ts";
import { freePort } from "./helpers/ports.ts";

export const TEMPLATE_DB = "polyphony_template";

declare module "vitest" {
  export interface ProvidedContext {
    pgServerUrl: string;
  }
}

/**
 * One embedded PostgreSQL for the whole run, plus a template database with every migration (ours and
 * graphile-worker's) applied. Each test file clones the template (test/helpers/database.ts).
 */
export default async function setup(project: TestProject) {
  await configureLogging({ log: { level: "warning", format: "text" } });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "polyphony-test-"));
  const server = new EmbeddedPostgres({ dataDir, port: await freePort() });
  const templateUrl = await server.start(TEMPLATE_DB);
  const db = await openDatabase(templateUrl, 4);
  try {
    await migrate(db.pool);
    await installJobQueueSchema(db.pool);
  } finally {
    await db.close();
  }
  const serverUrl = new URL(templateUrl);
  serverUrl.pathname = "/postgres";
  // Nobody may stay connected to a template while it is being cloned.
  const admin = new pg.Client({ connectionString: serverUrl.href });
  await admin.connect();
  await admin.query(`ALTER DATABASE ${TEMPLATE_DB} WITH is_template true ALLOW_CONNECTIONS false`);
  await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [TEMPLATE_DB]);
  await admin.end();
  project.provide("pgServerUrl", serverUrl.href);

  return async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
