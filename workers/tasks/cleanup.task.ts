import type { Task } from "graphile-worker";
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { deleteStaleReservations } from "../../core/library/upload-quota.ts";
import { deleteStaleRateLimits } from "../../core/rate-limit/rate-limiter.ts";
import { deleteExpiredKvEntries } from "../../federation/backends/postgres-kv-store.ts";

const log = getLogger(["polyphony", "worker", "cleanup"]);

/** Hourly housekeeping: expired sessions, Fedify cache entries, old rate-limit windows and upload reservations, dead heartbeats. */
export function cleanupTask(pool: pg.Pool): Task {
  return async () => {
    const sessions = await pool.query("DELETE FROM user_session WHERE expires_at <= now()");
    const kv = await deleteExpiredKvEntries(pool);
    await deleteStaleRateLimits(pool);
    await deleteStaleReservations(pool);
    await pool.query("DELETE FROM worker_heartbeat WHERE seen_at < now() - interval '1 day'");
    log.info("Cleanup removed {sessions} expired sessions and {kv} cache entries", { sessions: sessions.rowCount, kv });
  };
}
