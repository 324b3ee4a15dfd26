import type { Task } from "graphile-worker";
import { z } from "zod";
import { getLogger } from "../../config/logging.ts";
import type { AnalysisRunsService } from "../../core/analysis/analysis-runs.service.ts";

const log = getLogger(["polyphony", "worker", "analysis"]);
const payloadSchema = z.object({ runId: z.uuid() });

/** Picks a library analysis run's tracks and queues their `analyze_track` jobs (AnalysisRunsService.prepare). */
export function analyzeLibraryTask(runs: AnalysisRunsService, analyserVersion: string): Task {
  return async (payload) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) return;
    const queued = await runs.prepare(parsed.data.runId, analyserVersion);
    log.info("Analysis run {runId}: {queued} tracks queued", { runId: parsed.data.runId, queued });
  };
}
