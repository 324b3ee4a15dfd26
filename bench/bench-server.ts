// What the latency benchmarks (bench:search, bench:subsonic) measure against: an embedded PostgreSQL,
// migrated, and the real web server on a free port, all in this process.
import { chmod, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig, type AppConfig } from "../config/env.ts";
import { configureLogging } from "../config/logging.ts";
import { openDatabase, type Database } from "../core/db/database.ts";
import { EmbeddedPostgres } from "../core/db/embedded-postgres.ts";
import { migrate } from "../core/db/migrate.ts";
import { startWebServer } from "../server/main.ts";
import { freePort } from "../test/helpers/ports.ts";
import { installJobQueueSchema } from "../workers/main.ts";

export interface BenchServer {
  /** The working folder (the database lives in its `data`); kept afterwards only when the caller chose it. */
  work: string;
  db: Database;
  config: AppConfig;
  url: string;
  close(): Promise<void>;
}

/**
 * The run's working folder: `dir` (`--dir`, kept afterwards to look into) or a new temporary one.
 * Every run builds its database and files afresh, so a chosen folder must be new or empty.
 */
export async function workFolder(name: string, dir: string | undefined): Promise<string> {
  if (dir) {
    await mkdir(dir, { recursive: true });
    if ((await readdir(dir)).length) throw new Error(`--dir ${dir} is not empty: each run starts afresh, give it a new or empty folder`);
  }
  const work = dir ?? (await mkdtemp(path.join(os.tmpdir(), `polyphony-${name}-bench-`)));
  await chmod(work, 0o755); // the embedded PostgreSQL runs as another user when we are root
  return work;
}

export async function startBenchServer(name: string, dir: string | undefined): Promise<BenchServer> {
  await configureLogging({ log: { level: "warning", format: "text" } });
  const work = await workFolder(name, dir);
  const pg = new EmbeddedPostgres({ dataDir: path.join(work, "data"), port: await freePort() });
  const url = await pg.start("bench");
  // The server's own pool size and heap growth (DB_POOL_SIZE, HEAP_GROWTH_PERCENT), as in production.
  const tuning = Object.fromEntries(["DB_POOL_SIZE", "HEAP_GROWTH_PERCENT", "LISTENBRAINZ_ANONYMOUS_REQUESTS_PER_10S"].flatMap((variable) => {
    const value = process.env[variable];
    return value ? [[variable, value]] : [];
  }));
  const config = loadConfig({ DATABASE_URL: url, DATA_DIR: path.join(work, "data"), HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "warning", ...tuning });
  const db = await openDatabase(url, config.database.poolSize);
  let web: Awaited<ReturnType<typeof startWebServer>> | undefined;
  const close = async () => {
    await web?.close();
    await db.close();
    await pg.stop();
    if (!dir) await rm(work, { recursive: true, force: true });
  };
  try {
    await migrate(db.pool);
    await installJobQueueSchema(db.pool);
    web = await startWebServer(config, db);
    return { work, db, config, url: web.url, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The p-th percentile of latencies sorted in ascending order (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
