// npm run bench:import -- [--n 2000] [--workers 2] [--concurrency 4] [--dir <folder>]
// Import throughput and peak memory of the real pipeline (folder scan -> worker processes -> catalog),
// beside a parse-only baseline: music-metadata alone over the same files, one process, many in flight.
import { readdirSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { parseFile } from "music-metadata";
import type pg from "pg";
import { loadConfig } from "../config/env.ts";
import { configureLogging } from "../config/logging.ts";
import { ActorService } from "../core/accounts/actors.service.ts";
import { AccountService } from "../core/accounts/accounts.service.ts";
import { openDatabase } from "../core/db/database.ts";
import { EmbeddedPostgres } from "../core/db/embedded-postgres.ts";
import { migrate } from "../core/db/migrate.ts";
import { scanFolder } from "../core/library/folder-scanner.ts";
import { LibrariesService } from "../core/library/libraries.service.ts";
import { serverDirs } from "../core/library/music-folder.ts";
import { buildUploadsService } from "../core/library/uploads.service.ts";
import { freePort } from "../test/helpers/ports.ts";
import { spawnEntry, type Spawned } from "../test/helpers/processes.ts";
import { installJobQueueSchema } from "../workers/main.ts";
import { workFolder } from "./bench-server.ts";
import { generateLibrary } from "./fixtures.ts";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "2000" },
    workers: { type: "string", default: "2" },
    concurrency: { type: "string", default: "4" },
    dir: { type: "string" },
  },
});
const N = Number(values.n);
const WORKERS = Number(values.workers);
/** Files imported before the measured run: a server that imports is a long-running, JIT-warm process. */
const WARMUP = 1000;

/** Peak resident memory of a process so far (VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Math.round(Number(match[1]) / 1024) : NaN;
}

/** CPU seconds (user + system) used so far by the given processes. */
function cpuSeconds(pids: number[]): number {
  const ticks = pids.reduce((sum, pid) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return sum + Number(fields[11]) + Number(fields[12]);
    } catch {
      return sum;
    }
  }, 0);
  return ticks / 100;
}

function postgresPids(): number[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("postgres");
    } catch {
      return false;
    }
  });
}

async function parseOnly(files: string[], inFlight = 16): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < files.length) await parseFile(files[next++]!, { duration: false, skipCovers: false });
    }),
  );
  return files.length / ((performance.now() - started) / 1000);
}

async function waitUntilImported(pool: pg.Pool): Promise<void> {
  for (;;) {
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM upload WHERE status = 'pending'");
    if (rows[0].n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main() {
  await configureLogging({ log: { level: "warning", format: "text" } });
  const work = await workFolder("import", values.dir);
  const music = path.join(work, "music");
  console.log(`Generating ${N} files in ${music} ...`);
  let t = performance.now();
  const files = await generateLibrary(music, N);
  const warmup = path.join(work, "warmup");
  await generateLibrary(warmup, WARMUP, "Warm-up ");
  console.log(`  generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  await parseOnly(files.slice(0, 200)); // warm the file cache and the JIT
  const parseRate = await parseOnly(files);
  console.log(`Parse-only baseline: ${parseRate.toFixed(0)} files/s (music-metadata, 1 process, 16 in flight)`);

  const pg = new EmbeddedPostgres({ dataDir: path.join(work, "data"), port: await freePort() });
  const url = await pg.start("bench");
  const db = await openDatabase(url, 8);
  const workers: Spawned[] = [];
  try {
    await migrate(db.pool);
    await installJobQueueSchema(db.pool);
    const config = loadConfig({ DATABASE_URL: url, DATA_DIR: path.join(work, "data"), MEDIA_DIR: path.join(work, "media") });
    const actors = new ActorService({ publicUrl: config.http.publicUrl });
    const owner = await new AccountService({ pool: db.pool, orm: db.orm, actors, registration: "open" }).createUser(
      { username: "bench", password: "bench password" },
      "admin",
    );
    const uploads = buildUploadsService(config, db);
    const scanDeps = { pool: db.pool, orm: db.orm, uploads, coversDir: path.join(config.mediaDir, "covers"), serverDirs: serverDirs(config) };
    const library = await new LibrariesService({ pool: db.pool, orm: db.orm, actors, uploads, serverDirs: scanDeps.serverDirs }).create(owner, { name: "Bench" });
    const env: Record<string, string> = { DATABASE_URL: url, MEDIA_DIR: config.mediaDir, WORKER_CONCURRENCY: values.concurrency!, LOG_LEVEL: "warning" };
    // e.g. BENCH_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the workers.
    if (process.env.BENCH_NODE_OPTIONS) env.NODE_OPTIONS = process.env.BENCH_NODE_OPTIONS;
    for (let i = 0; i < WORKERS; i++) workers.push(spawnEntry(["main.ts", "worker"], env));
    // Warm the workers up (JIT, lazily loaded parsers), as the parse-only baseline is, on other music.
    const warm = await new LibrariesService({ pool: db.pool, orm: db.orm, actors, uploads, serverDirs: scanDeps.serverDirs }).create(owner, { name: "Warm-up" });
    await scanFolder(scanDeps, warm.id, warmup);
    await waitUntilImported(db.pool);

    const workerPids = workers.map((w) => w.child.pid!);
    const cpuBefore = { workers: cpuSeconds(workerPids), postgres: cpuSeconds(postgresPids()) };
    t = performance.now();
    const scan = await scanFolder(scanDeps, library.id, music);
    const scanSeconds = (performance.now() - t) / 1000;
    await waitUntilImported(db.pool);
    const { rows } = await db.pool.query(
      `SELECT count(*) FILTER (WHERE status = 'finished')::int AS finished, count(*)::int AS total,
              extract(epoch FROM max(imported_at) - min(created_at))::float AS seconds FROM upload WHERE library_id = $1`,
      [library.id],
    );
    const { finished, total, seconds } = rows[0] as { finished: number; total: number; seconds: number };
    const importRate = finished / seconds;
    const counts = await db.pool.query(
      `SELECT count(DISTINCT t.id)::int AS tracks, count(DISTINCT t.album_id)::int AS albums, count(DISTINCT c.artist_id)::int AS artists
       FROM upload u JOIN track t ON t.id = u.track_id JOIN artist_credit c ON c.track_id = t.id WHERE u.library_id = $1`,
      [library.id],
    );
    const peaks = workers.map((w) => peakRssMiB(w.child.pid!));
    const cpu = {
      workers: cpuSeconds(workerPids) - cpuBefore.workers,
      postgres: cpuSeconds(postgresPids()) - cpuBefore.postgres,
    };
    console.log(`Scan (walk + rows + jobs): ${scan.added} files in ${scanSeconds.toFixed(2)} s`);
    console.log(`Import: ${finished}/${total} finished in ${seconds.toFixed(2)} s = ${importRate.toFixed(0)} tracks/s ` +
      `(${WORKERS} worker processes x concurrency ${values.concurrency})`);
    console.log(`Catalog: ${counts.rows[0].tracks} tracks, ${counts.rows[0].albums} albums, ${counts.rows[0].artists} artists`);
    console.log(`Import / parse-only: ${((importRate / parseRate) * 100).toFixed(0)}% (target >= 75%)`);
    console.log(`Peak RSS per worker process: ${peaks.join(", ")} MiB`);
    console.log(`CPU during the import: workers ${cpu.workers.toFixed(1)} s, PostgreSQL ${cpu.postgres.toFixed(1)} s ` +
      `(${((1000 * (cpu.workers + cpu.postgres)) / finished).toFixed(2)} ms a track)`);
    console.log(JSON.stringify({ n: N, parseRate, importRate, ratio: importRate / parseRate, peakRssMiB: peaks }));
  } finally {
    for (const w of workers) w.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exited));
    await db.close();
    await pg.stop();
    if (!values.dir) await rm(work, { recursive: true, force: true });
  }
}

await main();
