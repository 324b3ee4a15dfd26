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

interface SharedServer {
  serverUrl: Promise<string>;
  users: number;
  stop(): Promise<void>;
}

// Each project that needs PostgreSQL (vitest.config.ts) runs this setup, each loading this module anew: the
// one server of the run is kept on globalThis, and the last project to finish stops it.
const SHARED = Symbol.for("polyphony.test.postgres");
const registry = globalThis as { [SHARED]?: SharedServer };

/**
 * One embedded PostgreSQL for the whole run, plus a template database with every migration (ours and
 * graphile-worker's) applied. Each test file clones the template (test/helpers/database.ts).
 */
export default async function setup(project: TestProject) {
  const shared = (registry[SHARED] ??= startServer());
  shared.users++;
  project.provide("pgServerUrl", await shared.serverUrl);
  return async () => {
    if (--shared.users > 0) return;
    delete registry[SHARED];
    await shared.stop();
  };
}

function startServer(): SharedServer {
  let stop = async () => {};
  const serverUrl = (async () => {
    await configureLogging({ log: { level: "warning", format: "text" } });
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "polyphony-test-"));
    const server = new EmbeddedPostgres({ dataDir, port: await freePort() });
    stop = async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
    return prepareTemplate(await server.start(TEMPLATE_DB));
  })();
  return { serverUrl, users: 0, stop: () => stop() };
}

/** Migrates the template database and closes it to connections; returns the server's admin URL. */
async function prepareTemplate(templateUrl: string): Promise<string> {
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
  return serverUrl.href;
}
