import type { Task } from "graphile-worker";
import { getLogger } from "../../config/logging.ts";
import type pg from "pg";
import type { RemoteScansService } from "../../core/fediverse/remote-scans.service.ts";
import { enqueueScheduledPlaylistScans } from "../../core/fediverse/remote-playlists.ts";

const log = getLogger(["polyphony", "fediverse", "remote-scan"]);

/**
 * Cron (daily): queue a scan of every remote library someone here follows, unless one is recent; and of
 * every followed remote playlist (each scans its own library).
 */
export function rescanRemoteLibrariesTask(scans: RemoteScansService, pool: pg.Pool): Task {
  return async () => {
    const queued = await scans.enqueueScheduled();
    if (queued) log.info("Queued the scheduled scans of {queued} remote libraries", { queued });
    const playlists = await enqueueScheduledPlaylistScans(pool);
    if (playlists) log.info("Queued the scheduled scans of {playlists} followed playlists", { playlists });
  };
}
