// The two servers of the peer benchmark: ours as a user runs it (`node main.ts all` with its defaults,
// embedded PostgreSQL, then `npm run cli -- import <dir> --library <id> --wait`), and Debian's supysonic
// (SQLite, `supysonic-cli folder scan --foreground`, served by gunicorn on loopback). Commands are timed
// with GNU time, so their CPU and peak memory are the kernel's own figures.
import { execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { TestClient } from "../test/helpers/client.ts";
import { freePort } from "../test/helpers/ports.ts";
import { startPolyphonyProcess, type PolyphonyProcess } from "../test/helpers/polyphony-process.ts";
import { ROOT } from "../test/helpers/processes.ts";

export interface Timed {
  seconds: number;
  /** User + system CPU seconds of the timed command and, for ours, of the server and its PostgreSQL. */
  cpuSeconds: number;
  /** Peak resident memory of the process that does the work (our server process; supysonic's scanner), MiB. */
  peakMiB: number;
  output: string;
  /** Ours: the CPU seconds of each process (the CLI, the server, its PostgreSQL). */
  cpuParts?: { cli: number; server: number; postgres: number };
}

export interface PeerServer {
  label: string;
  baseUrl: string;
  /** Query string that authenticates a Subsonic call. */
  auth: string;
  importAll(): Promise<Timed>;
  rescan(): Promise<Timed>;
  stop(): Promise<void>;
}

export function hasSupysonic(): boolean {
  try {
    execFileSync("sh", ["-c", "command -v supysonic-cli && command -v supysonic-server"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Runs a command under GNU time; resolves with its wall time, CPU, peak RSS and output. */
function timed(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("/usr/bin/time", ["-f", "\nGNU-TIME %U %S %M", command, ...args], { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("error", reject);
    child.once("exit", (code) => {
      const seconds = (performance.now() - started) / 1000;
      const match = /GNU-TIME ([\d.]+) ([\d.]+) (\d+)/.exec(output);
      if (code !== 0 || !match) return reject(new Error(`${command} ${args.join(" ")} failed (${code}):\n${output}`));
      resolve({ seconds, cpuSeconds: Number(match[1]) + Number(match[2]), peakMiB: Number(match[3]) / 1024, output: output.slice(0, match.index) });
    });
  });
}

/** CPU seconds of each process still running. */
function cpuByPid(pids: number[]): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      seconds.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // gone
    }
  }
  return seconds;
}

/**
 * CPU spent between two readings: per process, so a PostgreSQL backend that exits meanwhile (its time is
 * lost with it) does not make the sum go negative; one started meanwhile counts whole.
 */
function cpuSince(before: Map<number, number>, after: Map<number, number>): number {
  let seconds = 0;
  for (const [pid, now] of after) seconds += Math.max(0, now - (before.get(pid) ?? 0));
  return seconds;
}

function peakMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** The PostgreSQL processes whose data directory is under `dataDir` (the postmaster and its children). */
function postgresPids(dataDir: string): number[] {
  const pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);
  const postmasters = pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dataDir);
    } catch {
      return false;
    }
  });
  return pids.filter((pid) => {
    try {
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
      return postmasters.includes(pid) || postmasters.includes(ppid);
    } catch {
      return false;
    }
  });
}

/** Ours, fresh: a new DATA_DIR, `node main.ts all` with the defaults, one admin and one library on `music`. */
export async function startOurs(music: string): Promise<PeerServer> {
  // PEER_SERVER_NODE_OPTIONS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles our server process.
  const nodeOptions = process.env.PEER_SERVER_NODE_OPTIONS;
  const server: PolyphonyProcess = await startPolyphonyProcess("peer-bench", nodeOptions ? { NODE_OPTIONS: nodeOptions } : {});
  const client = new TestClient(server.url);
  await client.signup("bench");
  const library = (await client.post("/api/v1/libraries", { name: "Music" })).body as { id: string };
  const subsonic = (await client.get("/api/v1/me/subsonic")).body as { password: string };
  const dbPort = /@127\.0\.0\.1:(\d+)\//.exec((server.pool as unknown as { options: { connectionString: string } }).options.connectionString)![1]!;
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: server.dataDir, EMBEDDED_DB_PORT: dbPort, LOG_LEVEL: "warning" };
  const serverPid = server.process.child.pid!;
  // The CLI's own CPU comes from GNU time; the server's and PostgreSQL's from /proc around it.
  const cliImport = async () => {
    const before = { server: cpuByPid([serverPid]), postgres: cpuByPid(postgresPids(server.dataDir)) };
    const run = await timed(process.execPath, ["cli.ts", "import", music, "--library", library.id, "--wait"], { cwd: ROOT, env });
    // The CLI's own summary: its time runs from the first upload row, so the rest is the CLI's start and scan.
    const summary = run.output.split("\n").find((line) => line.startsWith("Imported"));
    if (summary) console.log(`  ours, the CLI says: ${summary}`);
    const after = { server: cpuByPid([serverPid]), postgres: cpuByPid(postgresPids(server.dataDir)) };
    const cpuParts = { cli: run.cpuSeconds, server: cpuSince(before.server, after.server), postgres: cpuSince(before.postgres, after.postgres) };
    return { ...run, cpuSeconds: cpuParts.cli + cpuParts.server + cpuParts.postgres, cpuParts, peakMiB: peakMiB(serverPid) };
  };
  return {
    label: "ours",
    baseUrl: server.url,
    auth: `u=bench&p=enc:${Buffer.from(subsonic.password).toString("hex")}`,
    importAll: cliImport,
    rescan: cliImport,
    stop: () => server.stop(),
  };
}

/** supysonic, fresh: a new state folder (config, SQLite database, admin/admin, the music folder). */
export async function startSupysonic(music: string, stateDir: string): Promise<PeerServer> {
  await rm(stateDir, { recursive: true, force: true });
  await mkdir(stateDir, { recursive: true });
  await writeFile(
    path.join(stateDir, "supysonic.conf"),
    [
      "[base]", `database_uri = sqlite:///${stateDir}/supysonic.db`, "follow_symlinks = no", "",
      "[webapp]", `cache_dir = ${stateDir}/cache`, "log_level = WARNING", "mount_webui = no", "",
      "[daemon]", `socket = ${stateDir}/supysonic.sock`, "run_watcher = no", "log_level = WARNING", "",
    ].join("\n"),
  );
  const cli = (...args: string[]) => timed("supysonic-cli", args, { cwd: stateDir });
  await cli("user", "add", "admin", "-p", "admin");
  await cli("user", "setroles", "--admin", "admin");
  await cli("folder", "add", "music", music);
  const port = await freePort();
  let serverProcess: ReturnType<typeof spawn> | undefined;
  const scan = () => cli("folder", "scan", "--foreground", "music");
  return {
    label: "supysonic",
    baseUrl: `http://127.0.0.1:${port}`,
    auth: `u=admin&p=enc:${Buffer.from("admin").toString("hex")}`,
    async importAll() {
      const result = await scan();
      // Serve it as the peer scripts do: gunicorn, 2 sync worker processes.
      serverProcess = spawn("supysonic-server", ["-S", "gunicorn", "--host", "127.0.0.1", "--port", String(port), "--processes", "2", "--threads", "1"], {
        cwd: stateDir,
        stdio: "ignore",
        detached: true,
      });
      for (let i = 0; i < 150; i++) {
        const up = await fetch(`http://127.0.0.1:${port}/rest/ping.view?u=admin&p=admin&v=1.16.1&c=bench`).then((r) => r.ok, () => false);
        if (up) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return result;
    },
    rescan: scan,
    async stop() {
      if (serverProcess?.pid) {
        process.kill(-serverProcess.pid, "SIGTERM"); // its own process group: gunicorn and its workers
        await new Promise((resolve) => serverProcess!.once("exit", resolve));
      }
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
