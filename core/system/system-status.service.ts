import type { Queryable } from "../jobs/enqueue.ts";
import type { FfmpegStatus } from "../media/transcoder.ts";
import { checkHealth, type HealthReport } from "./health.service.ts";
import { readJobsOverview, type JobsOverview } from "./jobs-overview.ts";

/** The instance's health (for load balancers) and its job queue (for administrators). */
export class SystemStatusService {
  readonly #db: Queryable;

  constructor(deps: { db: Queryable }) {
    this.#db = deps.db;
  }

  health(ffmpeg: FfmpegStatus): Promise<HealthReport> {
    return checkHealth(this.#db, ffmpeg);
  }

  jobs(): Promise<JobsOverview> {
    return readJobsOverview(this.#db);
  }
}
