import type { AppConfig } from "../config/env.ts";
import { AnalysisError, type AudioAnalyser } from "../core/analysis/track-features.ts";

/** The worker's audio analyser. Placeholder until the analyser (branch h/analyser) is merged. */
export function buildAnalyser(_config: AppConfig): AudioAnalyser {
  return {
    version: "none",
    analyse: () => Promise.reject(new AnalysisError("No audio analyser is installed")),
  };
}
