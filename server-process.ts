// The server process (main.ts): the web server, the worker or both, by mode, until a signal stops it.
import { ConfigError, loadConfig } from "./config/env.ts";
import { closeLogging, configureLogging, getLogger } from "./config/logging.ts";
import { connect } from "./core/db/connect.ts";
import { MigrationChangedError } from "./core/db/migrate.ts";
import { startWebServer, type WebServer } from "./server/main.ts";
import { installJobQueueSchema, startWorker, type Worker } from "./workers/main.ts";

const MODES = ["all", "web", "worker"] as const;
type Mode = (typeof MODES)[number];

async function main(mode: Mode): Promise<void> {
  const config = loadConfig();
  await configureLogging(config);
  const log = getLogger(["polyphony"]);
  const runsWorker = mode !== "web";
  const connection = await connect(config, {
    allowEmbedded: mode === "all",
    extraConnections: runsWorker ? config.worker.concurrency + 2 : 0,
  });
  let web: WebServer | undefined;
  let worker: Worker | undefined;
  let stopping: Promise<void> | undefined;

  const stop = async (signal: string) => {
    log.info("{signal} received: draining requests and jobs", { signal });
    const force = setTimeout(() => {
      log.error("Shutdown took too long; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs + 10_000);
    try {
      await Promise.all([web?.close(), worker?.stop()]);
      await connection.close();
    } finally {
      clearTimeout(force);
      await closeLogging();
    }
  };
  // Idempotent: a second call (another signal, an error while stopping) waits for the first.
  const shutdown = (signal: string) => (stopping ??= stop(signal));
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  // A client's error (a cut-short upload, a closed stream) is handled where it happens; anything that
  // reaches here is a bug, after which the process is in no known state: stop cleanly (the embedded
  // PostgreSQL included) and exit non-zero, so a supervisor restarts it.
  const fatal = (error: unknown, origin: string) => {
    log.fatal("Unexpected error ({origin}); shutting down: {error}", { origin, error });
    process.exitCode = 1;
    void shutdown("unexpected error").finally(() => process.exit(1));
  };
  process.on("uncaughtException", (error, origin) => fatal(error, origin));
  process.on("unhandledRejection", (reason) => fatal(reason, "unhandledRejection"));

  try {
    await installJobQueueSchema(connection.db.pool);
    if (runsWorker) worker = await startWorker(config, connection.db);
    if (mode !== "worker") web = await startWebServer(config, connection.db);
  } catch (error) {
    await shutdown("startup failure");
    throw error;
  }
}

const mode = (process.argv[2] ?? "all") as Mode;
if (!MODES.includes(mode)) {
  console.error(`Unknown mode "${mode}"; use one of: ${MODES.join(", ")}`);
  process.exit(2);
}
main(mode).catch((error: unknown) => {
  // Errors an operator fixes (the environment, an edited migration) are said in one sentence, without a stack.
  console.error(error instanceof ConfigError || error instanceof MigrationChangedError ? error.message : error);
  process.exitCode = 1;
});
