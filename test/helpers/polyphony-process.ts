import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "./ports.ts";
import { spawnEntry, waitForHealthy, type Spawned } from "./processes.ts";

/**
 * A whole Polyphony server as `npm start` runs it (web, worker and its own embedded PostgreSQL in one
 * process), with its own DATA_DIR, PORT and EMBEDDED_DB_PORT: one of the two servers of a federation
 * test or benchmark. Its public URL is where it listens on loopback, so it may reach the other only
 * with FEDERATION_ALLOW_PRIVATE_ADDRESS, set here.
 */
export interface PolyphonyProcess {
  name: string;
  url: string;
  dataDir: string;
  process: Spawned;
  /** Its own database, for what the test checks beneath the API. */
  pool: pg.Pool;
  stop(): Promise<void>;
}

export async function startPolyphonyProcess(name: string, env: Record<string, string> = {}): Promise<PolyphonyProcess> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `polyphony-${name}-`));
  await chmod(dataDir, 0o755); // the embedded PostgreSQL runs as the postgres user when we are root
  const [port, dbPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const spawned = spawnEntry(["main.ts", "all"], {
    DATA_DIR: dataDir,
    PORT: String(port),
    EMBEDDED_DB_PORT: String(dbPort),
    HOST: "127.0.0.1",
    PUBLIC_URL: url,
    FEDERATION_ALLOW_PRIVATE_ADDRESS: "true",
    SHUTDOWN_TIMEOUT_SECONDS: "2",
    LOG_LEVEL: "warning",
    ...env,
  });
  const stopProcess = async () => {
    if (spawned.child.exitCode === null && spawned.child.signalCode === null) {
      spawned.child.kill("SIGTERM");
      await spawned.exited;
    }
  };
  try {
    await waitForHealthy(url, spawned, 120_000);
  } catch (error) {
    await stopProcess();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const password = (await readFile(path.join(dataDir, "postgres-password"), "utf8")).trim();
  const pool = new pg.Pool({ connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${dbPort}/polyphony`, max: 3 });
  // pool.end() can resolve while a connection is still closing; the server's PostgreSQL, stopped next, then
  // ends it with 57P01, which a client the pool has let go would throw as an uncaught error. A query's own
  // errors still reject that query.
  pool.on("connect", (client) => client.on("error", () => {}));
  return {
    name,
    url,
    dataDir,
    process: spawned,
    pool,
    async stop() {
      await pool.end();
      await stopProcess();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
