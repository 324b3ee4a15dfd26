import type { Task } from "graphile-worker";
import type pg from "pg";
import { z } from "zod";
import { getLogger } from "../../config/logging.ts";
import { markImportFailed, type Importer } from "../../core/library/importer.ts";

const log = getLogger(["polyphony", "worker", "import"]);
const payloadSchema = z.object({ uploadIds: z.array(z.uuid()).min(1).max(100) });
/** Files of one chunk in flight at once: overlaps file reads, parsing and database round trips. */
const IN_FLIGHT = 4;

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
    const queue = [...parsed.data.uploadIds];
    const failures: unknown[] = [];
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let id = queue.shift(); id; id = queue.shift()) {
          try {
            await importer.importUpload(id);
          } catch (error) {
            log.error("Import of upload {uploadId} failed unexpectedly: {error}", { uploadId: id, error });
            if (helpers.job.attempts >= helpers.job.max_attempts) await markImportFailed(pool, id, helpers.job.id);
            else failures.push(error);
          }
        }
      }),
    );
    if (failures.length) throw new AggregateError(failures, `${failures.length} of the chunk's imports failed`);
  };
}
