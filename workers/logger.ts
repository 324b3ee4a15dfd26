import { Logger } from "graphile-worker";
import { getLogger } from "../config/logging.ts";

const log = getLogger(["polyphony", "worker", "graphile"]);

/** Routes graphile-worker's own log lines into LogTape, with the job id in context. */
export const graphileLogger = new Logger((scope) => (level, message, meta) => {
  const properties = { ...scope, ...(meta ?? {}) };
  const template = "{message}";
  if (level === "error") log.error(template, { message, ...properties });
  else if (level === "warning") log.warning(template, { message, ...properties });
  else if (level === "info") log.info(template, { message, ...properties });
  else log.debug(template, { message, ...properties });
});
