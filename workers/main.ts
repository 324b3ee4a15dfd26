import { randomUUID } from "node:crypto";
import { run, runMigrations, type Runner, type Task, type TaskList } from "graphile-worker";
import type pg from "pg";
import type { AppConfig } from "../config/env.ts";
import { getLogger, withContext } from "../config/logging.ts";
import type { Database } from "../core/db/database.ts";
import { recordHeartbeat, removeHeartbeat } from "../core/system/health.service.ts";
import { FEDIFY_TASK, GraphileMessageQueue } from "../federation/backends/graphile-message-queue.ts";
import { PostgresKvStore } from "../federation/backends/postgres-kv-store.ts";
import { buildFederation } from "../federation/index.ts";
import { graphileLogger } from "./logger.ts";
import { cleanupTask } from "./tasks/cleanup.task.ts";
import { fedifyTask } from "./tasks/fedify.task.ts";

const log = getLogger(["polyphony", "worker"]);
const HEARTBEAT_MS = 10_000;

/** Cron lines in graphile-worker's crontab syntax. */
export const CRONTAB = ["0 * * * * cleanup ?fill=1h"].join("\n");

export interface WorkerOptions {
  /** More tasks beside the built-in ones (tests add slow or failing tasks this way). */
  extraTasks?: Record<string, Task>;
}

export interface Worker {
  readonly id: string;
  /** Stops taking jobs and waits for the running ones to finish. Idempotent. */
  stop(): Promise<void>;
}

/** Installs or upgrades graphile-worker's schema; every process that enqueues jobs needs it. */
export async function installJobQueueSchema(pool: pg.Pool): Promise<void> {
  await runMigrations({ pgPool: pool, logger: graphileLogger });
}

export function buildTaskList(config: AppConfig, db: Database, extraTasks: Record<string, Task> = {}): TaskList {
  const federation = buildFederation({
    config,
    orm: db.orm,
    kv: new PostgresKvStore(db.pool),
    queue: new GraphileMessageQueue(db.pool),
  });
  const tasks: Record<string, Task> = { [FEDIFY_TASK]: fedifyTask(federation), cleanup: cleanupTask(db.pool), ...extraTasks };
  // Each job runs with its id in the log context.
  return Object.fromEntries(
    Object.entries(tasks).map(([name, task]) => [
      name,
      (payload, helpers) => withContext({ jobId: helpers.job.id, task: name }, () => task(payload, helpers)),
    ]),
  );
}

/** Composition root of the worker process. */
export async function startWorker(config: AppConfig, db: Database, options: WorkerOptions = {}): Promise<Worker> {
  const id = `worker-${randomUUID().slice(0, 8)}`;
  const startedAt = new Date();
  const runner: Runner = await run({
    pgPool: db.pool,
    taskList: buildTaskList(config, db, options.extraTasks),
    crontab: CRONTAB,
    concurrency: config.worker.concurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: graphileLogger,
    preset: { worker: { completeJobBatchDelay: 0, gracefulShutdownAbortTimeout: config.shutdownTimeoutMs } },
  });
  const beat = () => recordHeartbeat(db.pool, id, startedAt).catch((error) => log.warning("Heartbeat failed: {error}", { error }));
  await beat();
  const timer = setInterval(beat, HEARTBEAT_MS);
  log.info("Worker {id} started with concurrency {concurrency}", { id, concurrency: config.worker.concurrency });
  let stopping: Promise<void> | undefined;
  const stop = async () => {
    clearInterval(timer);
    await runner.stop();
    await removeHeartbeat(db.pool, id).catch(() => {});
    log.info("Worker {id} stopped", { id });
  };
  return { id, stop: () => (stopping ??= stop()) };
}
