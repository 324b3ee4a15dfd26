import type { Task } from "graphile-worker";
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { deleteExpiredSessions } from "../../core/accounts/sessions.service.ts";
import { removeUploadLeftovers } from "../../core/library/upload-leftovers.ts";
import { deleteStaleReservations } from "../../core/library/upload-quota.ts";
import { deleteStaleRateLimits } from "../../core/rate-limit/rate-limiter.ts";
import { deleteOldHeartbeats } from "../../core/system/health.service.ts";
import { deleteExpiredKvEntries } from "../../federation/backends/postgres-kv-store.ts";

const log = getLogger(["polyphony", "worker", "cleanup"]);

/**
 * Hourly housekeeping: expired sessions, Fedify cache entries, old rate-limit windows and upload
 * reservations, dead heartbeats, and what a crash left of uploads in flight.
 */
export function cleanupTask({ pool, mediaDir }: { pool: pg.Pool; mediaDir: string }): Task {
  return async () => {
    const sessions = await deleteExpiredSessions(pool);
    const kv = await deleteExpiredKvEntries(pool);
    await deleteStaleRateLimits(pool);
    await deleteStaleReservations(pool);
    await deleteOldHeartbeats(pool);
    const leftovers = await removeUploadLeftovers(pool, mediaDir);
    log.info("Cleanup removed {sessions} expired sessions, {kv} cache entries, {files} abandoned .part files and {batches} empty upload batches", {
      sessions,
      kv,
      ...leftovers,
    });
  };
}
