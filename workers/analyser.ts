import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { AppConfig } from "../config/env.ts";
import { AnalysisError, type AudioAnalyser, type TrackFeatures } from "../core/analysis/track-features.ts";

/**
 * The worker's audio analyser. Until the Essentia analyser (branch h/analyser) is merged: loudness, loudness
 * range and true peak from ffmpeg's ebur128 filter, the rest left null (never guessed).
 */
export function buildAnalyser(config: AppConfig): AudioAnalyser {
  const ffmpeg = config.transcoding.ffmpegPath;
  return {
    version: "ebur128-1",
    async analyse(file, options) {
      let stderr: string;
      try {
        ({ stderr } = await promisify(execFile)(ffmpeg, ["-hide_banner", "-nostats", "-i", file, "-vn", "-af", "ebur128=peak=true", "-f", "null", "-"], {
          signal: options.signal, timeout: options.timeLimitMs, maxBuffer: 64 * 1024 * 1024,
        }));
      } catch (error) {
        const message = (error as { stderr?: string }).stderr?.trim().split("\n").at(-1) ?? String(error);
        throw new AnalysisError(`ffmpeg could not decode the file: ${message}`);
      }
      const summary = stderr.slice(stderr.lastIndexOf("Summary:"));
      const number = (pattern: RegExp) => {
        const value = Number(pattern.exec(summary)?.[1]);
        return Number.isFinite(value) ? value : null;
      };
      const time = /time=(\d+):(\d+):([\d.]+)/g;
      let duration = 0;
      for (const m of stderr.matchAll(time)) duration = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
      if (!summary.includes("Integrated loudness")) throw new AnalysisError("ffmpeg found no audio to measure");
      const features: TrackFeatures = {
        durationSeconds: duration, tempoBpm: null, tempoConfidence: null, keyTonic: null, keyMode: null, keyStrength: null,
        loudnessLufs: number(/I:\s+(-?[\d.]+) LUFS/), loudnessRangeLu: number(/LRA:\s+(-?[\d.]+) LU/),
        truePeakDbtp: number(/Peak:\s+(-?[\d.]+) dBFS/), energy: null, danceability: null, dynamicComplexity: null, extra: {},
      };
      return features;
    },
  };
}
