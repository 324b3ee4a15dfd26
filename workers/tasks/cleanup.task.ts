import type { Task } from "graphile-worker";
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { deleteExpiredSessions } from "../../core/accounts/sessions.service.ts";
import { deleteExpiredScrobblerGrants } from "../../core/lastfm/lastfm-auth.service.ts";
import { evictCopies, removeCacheLeftovers } from "../../core/library/remote-cache.ts";
import { removeUploadLeftovers } from "../../core/library/upload-leftovers.ts";
import { deleteStaleReservations } from "../../core/library/upload-quota.ts";
import { deleteStaleRateLimits } from "../../core/rate-limit/rate-limiter.ts";
import { deleteOldHeartbeats } from "../../core/system/health.service.ts";
import { deleteExpiredKvEntries } from "../../federation/backends/postgres-kv-store.ts";

const log = getLogger(["polyphony", "worker", "cleanup"]);

/**
 * Hourly housekeeping: expired sessions (and Last.fm tokens, AudioScrobbler sessions), Fedify cache entries, old rate-limit windows and upload
 * reservations, dead heartbeats, what a crash left of uploads and remote audio downloads in flight, and
 * the remote audio cache brought under its cap (a web process evicts after each download too; this
 * catches a lowered REMOTE_CACHE_MAX_MB).
 */
export function cleanupTask({ pool, mediaDir, remoteCacheMaxBytes }: { pool: pg.Pool; mediaDir: string; remoteCacheMaxBytes: number }): Task {
  return async () => {
    const sessions = await deleteExpiredSessions(pool);
    const scrobblerGrants = await deleteExpiredScrobblerGrants(pool);
    const kv = await deleteExpiredKvEntries(pool);
    await deleteStaleRateLimits(pool);
    await deleteStaleReservations(pool);
    await deleteOldHeartbeats(pool);
    const leftovers = await removeUploadLeftovers(pool, mediaDir);
    const cache = await removeCacheLeftovers(pool, mediaDir);
    const evicted = await evictCopies(pool, mediaDir, remoteCacheMaxBytes);
    log.info(
      "Cleanup removed {sessions} expired sessions, {scrobblerGrants} expired Last.fm tokens and AudioScrobbler sessions, {kv} cache entries, {files} abandoned .part files and {batches} empty upload batches; " +
        "remote audio cache: {parts} abandoned downloads, {unrecorded} unrecorded copies, {evicted} copies evicted",
      { sessions, scrobblerGrants, kv, ...leftovers, ...cache, evicted },
    );
  };
}
