import type { Task } from "graphile-worker";
import type pg from "pg";
import { z } from "zod";
import { getLogger } from "../../config/logging.ts";
import { markImportFailed, type Importer } from "../../core/library/importer.ts";

const log = getLogger(["polyphony", "worker", "import"]);
const payloadSchema = z.object({ uploadIds: z.array(z.uuid()).min(1).max(100) });

/**
 * Imports a chunk of uploads. Already-imported ones are skipped, so a retried chunk (after a crash or
 * an unexpected error) only redoes what is left. After the last attempt, what is left is marked errored.
 */
export function importUploadsTask(importer: Importer, pool: pg.Pool): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      log.warning("Dropping import job {jobId} with a malformed payload", { jobId: helpers.job.id });
      return;
    }
    try {
      await importer.importUploads(parsed.data.uploadIds);
    } catch (error) {
      log.error("Import job {jobId} failed unexpectedly: {error}", { jobId: helpers.job.id, error });
      if (helpers.job.attempts < helpers.job.max_attempts) throw error;
      await markImportFailed(pool, parsed.data.uploadIds, helpers.job.id);
    }
  };
}
