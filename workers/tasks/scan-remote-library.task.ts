import type { Task } from "graphile-worker";
import type pg from "pg";
import { z } from "zod";
import { getLogger } from "../../config/logging.ts";
import { enqueueJob } from "../../core/jobs/enqueue.ts";
import type { RemoteLibraryScanner } from "../../core/fediverse/remote-library-scan.ts";
import type { AlbumCovers } from "../../core/library/remote-covers.ts";
import { REMOTE_SCAN_TASK, remoteScanJobKey } from "../../core/fediverse/remote-scans.service.ts";

const log = getLogger(["polyphony", "fediverse", "remote-scan"]);

const payloadSchema = z.object({ libraryId: z.uuid(), force: z.boolean().optional() });
/** Another scan of the library runs (a request made during a run): this one waits for it. */
const BUSY_RETRY_MS = 60_000;

/**
 * Walks a followed remote library's pages (core/fediverse/remote-library-scan.ts). Payload
 * `{ libraryId, force? }`, job key `scan_remote_library:<libraryId>` (enqueueRemoteScan). Its outcome,
 * failures included, is the scan row's: the job itself fails only on an unexpected error.
 */
export function scanRemoteLibraryTask(deps: { scanner: RemoteLibraryScanner; pool: pg.Pool; covers: AlbumCovers }): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      log.warning("Dropping remote scan job {jobId} with a malformed payload", { jobId: helpers.job.id });
      return;
    }
    const { libraryId, force } = parsed.data;
    const outcome = await deps.scanner.run(libraryId, { force });
    if (outcome.kind === "finished") await deps.covers.prefetchForLibrary(libraryId);
    if (outcome.kind === "busy") {
      await enqueueJob(deps.pool, REMOTE_SCAN_TASK, parsed.data, {
        jobKey: remoteScanJobKey(libraryId),
        runAt: new Date(Date.now() + BUSY_RETRY_MS),
        maxAttempts: 3,
      });
    }
  };
}
