import type { AppConfig } from "../config/env.ts";
import { EssentiaAnalyser } from "../core/analysis/essentia-analyser.ts";

/** The worker's audio analyser (README, "Audio analysis"); each job's time limit is ANALYSIS_TIME_LIMIT_SECONDS. */
export function buildAnalyser(config: AppConfig): EssentiaAnalyser {
  return new EssentiaAnalyser({ ffmpegPath: config.transcoding.ffmpegPath, timeLimitMs: config.analysis.timeLimitMs });
}
