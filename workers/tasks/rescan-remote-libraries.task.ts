import type { Task } from "graphile-worker";
import { getLogger } from "../../config/logging.ts";
import type { RemoteScansService } from "../../core/fediverse/remote-scans.service.ts";

const log = getLogger(["polyphony", "fediverse", "remote-scan"]);

/** Cron (daily): queue a scan of every remote library someone here follows, unless one is recent. */
export function rescanRemoteLibrariesTask(scans: RemoteScansService): Task {
  return async () => {
    const queued = await scans.enqueueScheduled();
    if (queued) log.info("Queued the scheduled scans of {queued} remote libraries", { queued });
  };
}
