// The operator commands of cli.ts: `npm run cli -- <command>`. Run `npm run cli -- help` for the list.
import { stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { text } from "node:stream/consumers";
import { ConfigError, loadConfig } from "./config/env.ts";
import { closeLogging, configureLogging } from "./config/logging.ts";
import { connect, type Connection } from "./core/db/connect.ts";
import { scanFolder } from "./core/library/folder-scanner.ts";
import { serverDirs } from "./core/library/music-folder.ts";
import type { ImportRate } from "./core/library/import-rate.ts";
import { buildUploadsService, type BatchCounts } from "./core/library/uploads.service.ts";

const HELP = `Usage: npm run cli -- <command>

Commands:
  migrate                                   apply pending database migrations
  user create <name> --password-stdin [--admin] [--email <address>]
                                            create an account (the password is read from standard input)
  import <dir> --library <id> [--wait]      import a folder in place (files stay where they are); a second
                                            run picks up new, changed and removed files. --wait follows
                                            the running worker's progress (done/total, files/s, time
                                            left) until the batch is done, then sums it up and lists
                                            the files that failed, each with its reason
  analyse --library <id> [--wait]           analyse the audio of the library's tracks that have no
                                            analysis by the worker's analyser (never analysed, failed,
                                            or by an older version), in the worker; --wait follows the
                                            progress (done/total, tracks/s, time left) to the end
  help                                      show this text`;

type Command = (args: string[], connection: Connection) => Promise<string>;

const commands: Record<string, Command> = {
  import: importFolder,
  analyse: analyseLibrary,

  async migrate(_args, connection) {
    // Loaded here only: the worker's modules (Fedify and all) take longer to load than an import's scan.
    const { installJobQueueSchema } = await import("./workers/main.ts");
    await installJobQueueSchema(connection.db.pool);
    return "Database is up to date.";
  },

  async "user create"(args, connection) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { "password-stdin": { type: "boolean" }, admin: { type: "boolean" }, email: { type: "string" } },
    });
    if (positionals.length !== 1) throw new UsageError("user create needs exactly one <name>");
    if (!values["password-stdin"]) throw new UsageError("pass --password-stdin and pipe the password in");
    // Loaded here only, as the worker's are for migrate: every command pays for what it imports at start.
    const { AccountService } = await import("./core/accounts/accounts.service.ts");
    const { ActorService } = await import("./core/accounts/actors.service.ts");
    const { emailSchema, passwordSchema, usernameSchema } = await import("./core/accounts/usernames.ts");
    const password = passwordSchema.parse((await text(process.stdin)).replace(/\r?\n$/, ""));
    const username = usernameSchema.parse(positionals[0]);
    const email = values.email === undefined ? undefined : emailSchema.parse(values.email);
    const config = loadConfig();
    const accounts = new AccountService({
      pool: connection.db.pool,
      orm: connection.db.orm,
      actors: new ActorService({ publicUrl: config.http.publicUrl }),
      registration: config.registration,
    });
    const user = await accounts.createUser({ username, email, password }, values.admin ? "admin" : "user");
    return `Created ${user.role} ${user.username} (${user.id}).`;
  },
};

async function importFolder(args: string[], connection: Connection): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { library: { type: "string" }, wait: { type: "boolean" } },
  });
  if (positionals.length !== 1 || !values.library) throw new UsageError("import needs <dir> and --library <id>");
  const dir = path.resolve(positionals[0]!);
  if (!(await stat(dir).catch(() => null))?.isDirectory()) throw new UsageError(`${dir} is not a directory`);
  const { rows } = await connection.db.pool.query("SELECT id FROM library WHERE id::text = $1", [values.library]);
  if (!rows[0]) throw new UsageError(`No library with id ${values.library}`);
  const config = loadConfig();
  const uploads = buildUploadsService(config, connection.db);
  const coversDir = path.join(config.mediaDir, "covers");
  const result = await scanFolder({ pool: connection.db.pool, orm: connection.db.orm, uploads, coversDir, serverDirs: serverDirs(config) }, values.library, dir);
  const summary = `Batch ${result.batchId}: ${result.added} new, ${result.changed} changed, ${result.removed} removed, ${result.unchanged} unchanged.`;
  if (result.added + result.changed === 0) return `${summary} Nothing to import.`;
  if (!values.wait) return `${summary} The worker imports them in the background.`;
  // A terminal sees the progress redrawn on one line (4 times a second at most); a file or pipe gets a
  // line every ten seconds.
  const redraw = process.stdout.isTTY;
  let lastLine = 0;
  const changes = await uploadChanges(connection.db.url, values.library);
  let counts = await uploads.batchCounts(result.batchId);
  try {
    while (counts.pending > 0) {
      await changes.next();
      counts = await uploads.batchCounts(result.batchId);
      if (Date.now() - lastLine < (redraw ? 250 : 10_000)) continue;
      const line = progressLine(counts, await uploads.batchRate(result.batchId));
      if (redraw) process.stdout.write(`\r${line}\x1b[K`);
      else console.log(line);
      lastLine = Date.now();
    }
  } finally {
    await changes.close();
  }
  if (redraw) process.stdout.write("\r\x1b[K");
  const seconds = (await uploads.batchSeconds(result.batchId)) ?? 0;
  const failures = await uploads.batchFailures(result.batchId);
  const listed = failures.map((f) => `  ${printable(f.path)}: ${printable(f.message)} (${printable(f.code)})`);
  const settled = counts.total - counts.pending;
  const done =
    `Imported ${settled} files in ${seconds.toFixed(1)} s (${seconds > 0 ? Math.round(settled / seconds) : settled} files/s): ` +
    `${counts.finished} finished, ${counts.errored} failed, ${counts.skipped} skipped as duplicates.`;
  return [done, ...(failures.length ? [`Failed (${failures.length}):`, ...listed] : []), summary].join("\n");
}

/**
 * Waits for the library's uploads to change: woken by the import's own notifications (one a chunk), so the
 * end of a batch is seen at once rather than at the next poll; a second at most without one.
 */
async function uploadChanges(url: string, libraryId: string): Promise<{ next(): Promise<void>; close(): Promise<void> }> {
  const { PgListener } = await import("./core/db/pg-listener.ts");
  const { UPLOAD_EVENTS_CHANNEL } = await import("./core/library/upload-events.ts");
  let changed = false;
  let wake: (() => void) | undefined;
  const listener = new PgListener({
    config: { connectionString: url },
    channels: [UPLOAD_EVENTS_CHANNEL],
    onNotification: (_channel, payload) => {
      if (!payload.includes(libraryId)) return;
      changed = true;
      wake?.();
    },
  });
  await listener.start();
  return {
    next: () =>
      new Promise<void>((resolve) => {
        if (changed) return resolve();
        const timer = setTimeout(resolve, 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      }).finally(() => {
        changed = false;
        wake = undefined;
      }),
    close: () => listener.close(),
  };
}

async function analyseLibrary(args: string[], connection: Connection): Promise<string> {
  const { values } = parseArgs({ args, options: { library: { type: "string" }, wait: { type: "boolean" } } });
  if (!values.library || !/^[0-9a-f-]{36}$/i.test(values.library)) throw new UsageError("analyse needs --library <id>");
  const { AnalysisRunsService } = await import("./core/analysis/analysis-runs.service.ts");
  const { NotFound } = await import("./core/errors.ts");
  const runs = new AnalysisRunsService({ pool: connection.db.pool, orm: connection.db.orm, queues: loadConfig().analysis.concurrency });
  let state = await runs.startForOperator(values.library).catch((error: unknown) => {
    throw error instanceof NotFound ? new UsageError(`No library of this server with id ${values.library}`) : error;
  });
  if (!values.wait) return `Analysis run ${state.run!.id} queued: the worker analyses what is missing in the background.`;
  let lastLine = 0;
  while (state.run!.state !== "finished") {
    await new Promise((resolve) => setTimeout(resolve, 500));
    state = await runs.progressForOperator(values.library);
    const run = state.run!;
    if (Date.now() - lastLine < (process.stdout.isTTY ? 0 : 10_000)) continue;
    const speed = run.tracksPerSecond === null ? "" : `, ${run.tracksPerSecond.toFixed(1)} tracks/s`;
    const left = run.secondsLeft === null ? "" : `, ${duration(run.secondsLeft)} left`;
    const line = run.state === "preparing" ? "Finding the tracks to analyse…" : `${run.done}/${run.total} tracks${speed}${left}`;
    if (process.stdout.isTTY) process.stdout.write(`\r${line}\x1b[K`);
    else console.log(line);
    lastLine = Date.now();
  }
  if (process.stdout.isTTY) process.stdout.write("\r\x1b[K");
  const run = state.run!;
  return `Analysed ${run.done} tracks (${run.failed} failed) with analyser ${run.analyserVersion}; ${state.analysed} of the library's ${state.tracks} tracks have features.`;
}

/** "1200/2005 files, 410 files/s, 2 s left (3 failed)": what a person waiting wants to know. */
function progressLine(counts: BatchCounts, rate: ImportRate): string {
  const done = counts.total - counts.pending;
  const speed = rate.filesPerSecond === null ? "" : `, ${Math.round(rate.filesPerSecond)} files/s`;
  const left = rate.secondsLeft === null ? "" : `, ${duration(rate.secondsLeft)} left`;
  return `${done}/${counts.total} files${speed}${left}${counts.errored ? ` (${counts.errored} failed)` : ""}`;
}

function duration(seconds: number): string {
  return seconds < 90 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** File names and messages go to a terminal: control characters (escape sequences) are shown escaped. */
function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const name = argv[0] === "user" ? `user ${argv[1] ?? ""}`.trim() : (argv[0] ?? "help");
  const command = commands[name];
  if (!command) {
    console.log(HELP);
    return name === "help" ? 0 : 2;
  }
  const config = loadConfig();
  await configureLogging({ log: { ...config.log, level: config.log.level === "info" ? "warning" : config.log.level } });
  // Only `user create` works through entities; the others start faster on a pool alone.
  const connection = await connect(config, { allowEmbedded: true, sqlOnly: !name.startsWith("user ") });
  try {
    console.log(await command(argv.slice(name.split(" ").length), connection));
    return 0;
  } finally {
    await connection.close();
    await closeLogging();
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof UsageError) console.error(error.message);
    else if (error instanceof Error && error.name === "ZodError") {
      const issues = (error as unknown as { issues: { message: string }[] }).issues;
      console.error(issues.map((i) => i.message).join("\n"));
    } else console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
