import type { AppConfig } from "../config/env.ts";
import { AnalyserPool } from "../core/analysis/analyser-pool.ts";
import { EssentiaAnalyser } from "../core/analysis/essentia-analyser.ts";

/**
 * The worker's audio analyser (README, "Audio analysis"): ANALYSIS_CONCURRENCY Essentia analysers, as many
 * as analysis jobs may run at once (each measures one file at a time; its thread starts on first use).
 */
export function buildAnalyser(config: AppConfig): AnalyserPool {
  const options = { ffmpegPath: config.transcoding.ffmpegPath, timeLimitMs: config.analysis.timeLimitMs };
  return new AnalyserPool(Array.from({ length: config.analysis.concurrency }, () => new EssentiaAnalyser(options)));
}
