import type { Task } from "graphile-worker";
import { z } from "zod";
import { getLogger } from "../../config/logging.ts";
import { markImportFailed, type Importer } from "../../core/library/importer.ts";

const log = getLogger(["polyphony", "worker", "import"]);
const payloadSchema = z.object({ uploadId: z.uuid() });

/** Imports one upload. Unexpected errors are retried by graphile; the last failure is recorded on the upload. */
export function importUploadTask(importer: Importer, pool: Parameters<typeof markImportFailed>[0]): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      log.warning("Dropping import job {jobId} with a malformed payload", { jobId: helpers.job.id });
      return;
    }
    try {
      await importer.importUpload(parsed.data.uploadId);
    } catch (error) {
      log.error("Import of upload {uploadId} failed unexpectedly: {error}", { uploadId: parsed.data.uploadId, error });
      if (helpers.job.attempts >= helpers.job.max_attempts) {
        await markImportFailed(pool, parsed.data.uploadId, helpers.job.id);
        return;
      }
      throw error;
    }
  };
}
