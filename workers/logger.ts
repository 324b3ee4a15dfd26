import { Logger } from "graphile-worker";
import { getLogger } from "../config/logging.ts";
import { DomainError } from "../core/errors.ts";

const log = getLogger(["polyphony", "worker", "graphile"]);

/**
 * Routes graphile-worker's own log lines into LogTape, with the job id in context. The job row it
 * attaches (payload and all) is left out: the job id and task say which. A job that failed with a
 * domain error (a music folder that cannot be read, say) failed for a reason a person can act on: a
 * warning with its message, not an error with a stack.
 */
export const graphileLogger = new Logger((scope) => (level, message, meta) => {
  const { job, error, ...rest } = (meta ?? {}) as { job?: { id?: string; task_identifier?: string }; error?: unknown };
  const properties = { ...scope, ...rest, ...(job ? { jobId: job.id, task: job.task_identifier } : {}) };
  const template = "{message}";
  if (level === "error" && error instanceof DomainError) {
    log.warning("Job {jobId} ({task}) failed: {reason}", { ...properties, reason: error.message });
  } else if (level === "error") log.error(template, { message, ...properties, error });
  else if (level === "warning") log.warning(template, { message, ...properties, ...(error ? { error } : {}) });
  else if (level === "info") log.info(template, { message, ...properties });
  else log.debug(template, { message, ...properties });
});
