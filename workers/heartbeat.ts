import type pg from "pg";
import { getLogger } from "../config/logging.ts";
import {
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_STALE_SECONDS,
  recordHeartbeat,
  releaseJobsOfDeadWorkers,
  removeHeartbeat,
} from "../core/system/health.service.ts";

const log = getLogger(["polyphony", "worker"]);

export interface HeartbeatTiming {
  intervalMs: number;
  /** A worker silent this long counts as dead and its jobs are released. */
  deadAfterSeconds: number;
}

export interface Heartbeat {
  /** Stops beating and removes this worker's row: call it once its jobs have drained, never before. */
  stop(): Promise<void>;
}

/**
 * Beats for one worker process: says which lock holders (graphile-worker pool ids, read live from
 * `poolIds`) are alive, then releases the jobs of holders nobody vouches for any more.
 */
export async function startHeartbeat(
  pool: pg.Pool,
  workerId: string,
  poolIds: readonly string[],
  timing: HeartbeatTiming = { intervalMs: HEARTBEAT_INTERVAL_MS, deadAfterSeconds: HEARTBEAT_STALE_SECONDS },
): Promise<Heartbeat> {
  const startedAt = new Date();
  const beat = async () => {
    try {
      await recordHeartbeat(pool, workerId, startedAt, [...poolIds]);
      const released = await releaseJobsOfDeadWorkers(pool, timing.deadAfterSeconds);
      if (released.length) log.warning("Released jobs held by workers that died: {released}", { released });
    } catch (error) {
      log.warning("Heartbeat failed: {error}", { error });
    }
  };
  let beating = beat();
  await beating;
  // A slow beat is not overlapped by the next one.
  const timer = setInterval(() => (beating = beating.then(beat)), timing.intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await beating;
      await removeHeartbeat(pool, workerId).catch(() => {});
    },
  };
}
