import type { Task } from "graphile-worker";
import { z } from "zod";
import { getLogger } from "../../config/logging.ts";
import type { TrackAnalysisJob } from "../../core/analysis/track-analysis-job.ts";

const log = getLogger(["polyphony", "worker", "analysis"]);
const payloadSchema = z.object({ trackId: z.uuid() });

/** Analyses one track (TrackAnalysisJob); an unexpected error is retried, then stored as the reason. */
export function analyzeTrackTask(job: TrackAnalysisJob): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      log.warning("Dropping analysis job {jobId} with a malformed payload", { jobId: helpers.job.id });
      return;
    }
    const result = await job.run(parsed.data.trackId, {
      lastAttempt: helpers.job.attempts >= helpers.job.max_attempts,
      signal: helpers.abortSignal,
    });
    log.debug("Track {trackId} analysis: {result}", { trackId: parsed.data.trackId, result });
  };
}
