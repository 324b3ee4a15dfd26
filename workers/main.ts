import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { run, runMigrations, type Runner, type Task, type TaskList, type WorkerEvents } from "graphile-worker";
import type pg from "pg";
import type { AppConfig } from "../config/env.ts";
import { getLogger, withContext } from "../config/logging.ts";
import type { Database } from "../core/db/database.ts";
import { FEDIFY_TASK, GraphileMessageQueue } from "../federation/backends/graphile-message-queue.ts";
import { PostgresKvStore } from "../federation/backends/postgres-kv-store.ts";
import { buildFederation } from "../federation/index.ts";
import { Importer } from "../core/library/importer.ts";
import { SCAN_TASK } from "../core/library/folder-scanner.ts";
import { LibraryScansService } from "../core/library/library-scans.service.ts";
import { serverDirs } from "../core/library/music-folder.ts";
import { buildUploadsService, IMPORT_TASK } from "../core/library/uploads.service.ts";
import { startHeartbeat, type HeartbeatTiming } from "./heartbeat.ts";
import { graphileLogger } from "./logger.ts";
import { importUploadsTask } from "./tasks/import-uploads.task.ts";
import { rescanLibrariesTask, scanLibraryTask } from "./tasks/scan-library.task.ts";
import { cleanupTask } from "./tasks/cleanup.task.ts";
import { fedifyTask } from "./tasks/fedify.task.ts";
import { publishLibraryTask } from "./tasks/publish-library.task.ts";
import { sendFollowActivityTask } from "./tasks/send-follow-activity.task.ts";
import { SEND_FOLLOW_TASK } from "../core/fediverse/follow-publisher.ts";
import { PUBLISH_TASK } from "../core/fediverse/library-publications.ts";
import { rescanRemoteLibrariesTask } from "./tasks/rescan-remote-libraries.task.ts";
import { scanRemoteLibraryTask } from "./tasks/scan-remote-library.task.ts";
import { scanRemotePlaylistTask } from "./tasks/scan-remote-playlist.task.ts";
import { publishPlaylistTask } from "./tasks/publish-playlist.task.ts";
import { RemotePlaylistScanner } from "../core/fediverse/remote-playlist-scan.ts";
import { REMOTE_PLAYLIST_SCAN_TASK } from "../core/fediverse/remote-playlists.ts";
import { PUBLISH_PLAYLIST_TASK } from "../core/fediverse/playlist-publications.ts";
import { RemoteLibraryScanner } from "../core/fediverse/remote-library-scan.ts";
import { REMOTE_SCAN_TASK, RemoteScansService } from "../core/fediverse/remote-scans.service.ts";
import { outboundPolicy } from "../core/fediverse/safe-fetch.ts";
import { AlbumCovers } from "../core/library/remote-covers.ts";
import { CatalogService } from "../core/catalog/catalog.service.ts";
import { FUNKWHALE_ACTIVITY_TASK } from "../core/fediverse/funkwhale-activities.ts";
import { LibrarySyncInbox } from "../core/fediverse/library-sync-inbox.ts";
import { funkwhaleActivityTask } from "./tasks/funkwhale-activity.task.ts";
import { DomainPolicy } from "../core/moderation/domain-policy.ts";
import { ListenRelayDelivery } from "../core/listens/listen-relay-delivery.ts";
import { ListenRelayService, listenRelayKey, RELAY_LISTENS_TASK, RELAY_NOW_PLAYING_TASK } from "../core/listens/listen-relay.service.ts";
import { relayListensTask, relayNowPlayingTask } from "./tasks/relay-listens.task.ts";
import { IMPORT_LISTENS_TASK, ListenImportsService } from "../core/listens/listen-imports.service.ts";
import { ListenIngest } from "../core/listens/listen-ingest.ts";
import { importListensTask } from "./tasks/import-listens.task.ts";
import { ANALYZE_LIBRARY_TASK, ANALYZE_TRACK_TASK } from "../core/analysis/analysis-queue.ts";
import { AnalysisRunsService } from "../core/analysis/analysis-runs.service.ts";
import { TrackAnalysisJob } from "../core/analysis/track-analysis-job.ts";
import type { AudioAnalyser } from "../core/analysis/track-features.ts";
import { analyzeLibraryTask } from "./tasks/analyze-library.task.ts";
import { analyzeTrackTask } from "./tasks/analyze-track.task.ts";
import { buildAnalyser } from "./analyser.ts";

const log = getLogger(["polyphony", "worker"]);

/**
 * Cron lines in graphile-worker's crontab syntax: the hourly cleanup, music folders every 30 minutes,
 * followed remote libraries daily (at 04:17, away from the hour's other work).
 */
export const CRONTAB = ["0 * * * * cleanup ?fill=1h", "*/30 * * * * rescan_libraries", "17 4 * * * rescan_remote_libraries"].join("\n");

export interface WorkerOptions {
  /** More tasks beside the built-in ones (tests add slow or failing tasks this way). */
  extraTasks?: Record<string, Task>;
  /** How often the heartbeat is written, and how long a worker may be silent before it counts as dead. */
  heartbeat?: HeartbeatTiming;
  /** The audio analyser `analyze_track` runs (tests give one of another version); the real one by default. */
  analyser?: AudioAnalyser;
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

/** The worker's tasks, and what to close when it stops (the importer's reader threads). */
export function buildTaskList(config: AppConfig, db: Database, analyser: AudioAnalyser, extraTasks: Record<string, Task> = {}): { taskList: TaskList; close(): Promise<void> } {
  const federation = buildFederation({
    config,
    orm: db.orm,
    pool: db.pool,
    kv: new PostgresKvStore(db),
    queue: new GraphileMessageQueue(db.pool),
  });
  const importer = new Importer({
    pool: db.pool, orm: db.orm, mediaDir: config.mediaDir, genreSeparators: config.media.genreSeparators, analysisQueues: config.analysis.concurrency,
  });
  const uploads = buildUploadsService(config, db);
  const scans = new LibraryScansService({ pool: db.pool });
  const policy = outboundPolicy(config);
  const remoteScanner = new RemoteLibraryScanner({ pool: db.pool, orm: db.orm, policy, uploads, mediaDir: config.mediaDir });
  const covers = new AlbumCovers({
    pool: db.pool, catalog: new CatalogService({ pool: db.pool }), coversDir: importer.coversDir, policy, timeoutMs: config.media.remoteTimeoutMs,
  });
  const relays = new ListenRelayDelivery({ relays: new ListenRelayService({ pool: db.pool, key: listenRelayKey(config) }), policy });
  const tasks: Record<string, Task> = {
    [FEDIFY_TASK]: fedifyTask(federation, new DomainPolicy({ pool: db.pool, mode: config.federation.mode, publicUrl: config.http.publicUrl })),
    [PUBLISH_TASK]: publishLibraryTask({ federation, pool: db.pool, publicUrl: config.http.publicUrl }),
    [SEND_FOLLOW_TASK]: sendFollowActivityTask(federation, config.http.publicUrl),
    cleanup: cleanupTask({ pool: db.pool, mediaDir: config.mediaDir, remoteCacheMaxBytes: config.media.remoteCacheMaxBytes }),
    [IMPORT_TASK]: importUploadsTask(importer, db.pool),
    [SCAN_TASK]: scanLibraryTask({ pool: db.pool, orm: db.orm, uploads, scans, coversDir: importer.coversDir, serverDirs: serverDirs(config) }),
    rescan_libraries: rescanLibrariesTask(scans),
    [REMOTE_SCAN_TASK]: scanRemoteLibraryTask({ pool: db.pool, scanner: remoteScanner, covers }),
    [REMOTE_PLAYLIST_SCAN_TASK]: scanRemotePlaylistTask({
      scanner: new RemotePlaylistScanner({ pool: db.pool, orm: db.orm, policy, uploads, libraries: remoteScanner }),
      covers,
    }),
    [PUBLISH_PLAYLIST_TASK]: publishPlaylistTask({ federation, pool: db.pool, publicUrl: config.http.publicUrl }),
    rescan_remote_libraries: rescanRemoteLibrariesTask(new RemoteScansService(db), db.pool),
    [FUNKWHALE_ACTIVITY_TASK]: funkwhaleActivityTask(new LibrarySyncInbox({ pool: db.pool, orm: db.orm, policy, uploads, mediaDir: config.mediaDir })),
    [RELAY_LISTENS_TASK]: relayListensTask(relays),
    [RELAY_NOW_PLAYING_TASK]: relayNowPlayingTask(relays),
    [IMPORT_LISTENS_TASK]: importListensTask(new ListenImportsService({
      db, sink: new ListenIngest({ db }), dataDir: config.dataDir, maxBytes: config.listenBrainz.importMaxBytes,
    })),
    [ANALYZE_TRACK_TASK]: analyzeTrackTask(new TrackAnalysisJob({
      pool: db.pool, orm: db.orm, mediaDir: config.mediaDir, analyser, timeLimitMs: config.analysis.timeLimitMs,
    })),
    [ANALYZE_LIBRARY_TASK]: analyzeLibraryTask(new AnalysisRunsService({ pool: db.pool, orm: db.orm, queues: config.analysis.concurrency }), analyser.version),
    ...extraTasks,
  };
  // Each job runs with its id in the log context.
  const taskList: TaskList = Object.fromEntries(
    Object.entries(tasks).map(([name, task]) => [
      name,
      (payload, helpers) => withContext({ jobId: helpers.job.id, task: name }, () => task(payload, helpers)),
    ]),
  );
  return { taskList, close: () => importer.close() };
}

/** Composition root of the worker process. */
export async function startWorker(config: AppConfig, db: Database, options: WorkerOptions = {}): Promise<Worker> {
  const id = `worker-${randomUUID().slice(0, 8)}`;
  const events: WorkerEvents = new EventEmitter();
  // graphile-worker locks a job with its pool's id (jobs.locked_by), not its job slot's: the heartbeat
  // must vouch for exactly those ids, or other workers take this one's long jobs.
  const poolIds: string[] = [];
  const ownAnalyser = options.analyser ? undefined : buildAnalyser(config);
  const analyser = options.analyser ?? ownAnalyser!;
  events.on("pool:create", ({ workerPool }) => poolIds.push(workerPool.id));
  const tasks = buildTaskList(config, db, analyser, options.extraTasks);
  const runner: Runner = await run({
    events,
    pgPool: db.pool,
    taskList: tasks.taskList,
    crontab: CRONTAB,
    concurrency: config.worker.concurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: graphileLogger,
    preset: { worker: { completeJobBatchDelay: 0, gracefulShutdownAbortTimeout: config.shutdownTimeoutMs } },
  });
  const heartbeat = await startHeartbeat(db.pool, id, poolIds, options.heartbeat);
  log.info("Worker {id} started with concurrency {concurrency}", { id, concurrency: config.worker.concurrency });
  let stopping: Promise<void> | undefined;
  const stop = async () => {
    // The heartbeat goes on while running jobs drain: a silent worker's jobs would be run a second time.
    await runner.stop();
    await tasks.close();
    await ownAnalyser?.close(); // its Essentia thread
    await heartbeat.stop();
    log.info("Worker {id} stopped", { id });
  };
  return { id, stop: () => (stopping ??= stop()) };
}
