// The server's AudioAnalyser: ffmpeg measures loudness over the whole file and cuts an excerpt, Essentia
// (WebAssembly, in a worker thread) measures tempo, key, danceability and dynamics on that excerpt. What each
// feature means and why it is measured this way: README, "Audio analysis".
import { createRequire } from "node:module";
import { ANALYSIS_SETTINGS, EXCERPT_SAMPLE_RATE, type ExcerptFeatures } from "./essentia-features.ts";
import { EssentiaThread } from "./essentia-thread.ts";
import type { WorkerMemory } from "./essentia-worker.ts";
import { probeDuration, startMeasure, type RunningMeasure, type WholeFileMeasure } from "./ffmpeg-measure.ts";
import { AnalysisError, type AudioAnalyser, type TrackFeatures } from "./track-features.ts";

const ESSENTIA_JS_VERSION = (createRequire(import.meta.url)("essentia.js/package.json") as { version: string }).version;

/** Essentia measures this much of the middle of a track (s); loudness always covers the whole file. */
export const DEFAULT_EXCERPT_SECONDS = 60;
export const DEFAULT_TIME_LIMIT_MS = 60_000;

/**
 * Energy is the integrated loudness placed on 0..1 between these levels (LUFS): -30 (a very quiet
 * recording) is 0, -5 (as loud as masters get) is 1. A documented mapping of a measure, not a model.
 */
export const ENERGY_SCALE = { quietLufs: -30, loudLufs: -5 } as const;
/** Essentia's Danceability runs 0..~3; divided by this and capped at 1. */
export const DANCEABILITY_SCALE = 3;

/** Bumped when what the analyser stores changes without a settings change (e.g. a fixed mapping). */
const REVISION = 2;

export interface EssentiaAnalyserOptions {
  ffmpegPath: string;
  excerptSeconds?: number;
  /** Used when analyse() is given none. */
  timeLimitMs?: number;
}

export class EssentiaAnalyser implements AudioAnalyser {
  readonly version: string;
  readonly #ffmpegPath: string;
  readonly #excerptSeconds: number;
  readonly #timeLimitMs: number;
  readonly #thread = new EssentiaThread();
  /** One analysis at a time per analyser: the thread measures one excerpt at a time anyway. */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(options: EssentiaAnalyserOptions) {
    this.#ffmpegPath = options.ffmpegPath;
    this.#excerptSeconds = options.excerptSeconds ?? DEFAULT_EXCERPT_SECONDS;
    this.#timeLimitMs = options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
    const { minSeconds, rhythm, key, danceability, dynamicComplexity, onsets } = ANALYSIS_SETTINGS;
    this.version = [
      `r${REVISION}`,
      `essentia.js ${ESSENTIA_JS_VERSION}`,
      `excerpt ${this.#excerptSeconds}s@${EXCERPT_SAMPLE_RATE}Hz min ${minSeconds}s`,
      `rhythm ${rhythm.method} ${rhythm.minTempo}-${rhythm.maxTempo} if onsets>=${onsets.minPerSecond}/s in ${onsets.seconds}s`,
      `key ${key.profile} ${key.frameSize}/${key.hopSize} ${key.minFrequency}-${key.maxFrequency}Hz`,
      `dance ${danceability.minTauMs}-${danceability.maxTauMs}ms /${DANCEABILITY_SCALE}`,
      `dyncomp ${dynamicComplexity.frameSeconds}s`,
      `energy ${ENERGY_SCALE.quietLufs}..${ENERGY_SCALE.loudLufs}LUFS`,
      "ebur128 peak",
    ].join("; ");
  }

  /** The most memory the analysis thread has held (bytes). */
  get peakThreadMemory(): WorkerMemory {
    return this.#thread.peakMemory;
  }

  /**
   * Rejects with an AnalysisError when the file cannot be measured or the time limit passes; with the
   * signal's reason when the signal aborts (the file is not to blame). Calls on one analyser queue; the
   * time limit counts from the start of the call's turn.
   */
  analyse(path: string, options: { signal?: AbortSignal; timeLimitMs?: number } = {}): Promise<TrackFeatures> {
    const { signal } = options;
    const result = this.#turn.then(() => this.#analyse(path, signal, options.timeLimitMs ?? this.#timeLimitMs));
    this.#turn = result.catch(() => {});
    if (!signal) return result;
    // A call still waiting for its turn ends at once when aborted (its turn then ends at its first check).
    // The listener goes when the call settles: one signal may serve a worker's every job.
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    aborted.catch(() => {});
    return Promise.race([result, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
  }

  /** Ends the analysis thread. */
  close(): Promise<void> {
    return this.#thread.close();
  }

  async #analyse(path: string, outer: AbortSignal | undefined, timeLimitMs: number): Promise<TrackFeatures> {
    outer?.throwIfAborted();
    const controller = new AbortController();
    const limit = new AnalysisError(`the analysis took longer than its time limit of ${Math.round(timeLimitMs / 100) / 10} s`);
    const timer = setTimeout(() => controller.abort(limit), timeLimitMs);
    const onOuterAbort = () => controller.abort(outer?.reason);
    outer?.addEventListener("abort", onOuterAbort, { once: true });
    const signal = controller.signal;
    let measure: RunningMeasure | undefined;
    try {
      const duration = await probeDuration(this.#ffmpegPath, path, signal).catch((error: unknown) => {
        throw signal.aborted ? signal.reason : error;
      });
      const seconds = duration === null ? this.#excerptSeconds : Math.min(this.#excerptSeconds, duration);
      const startSeconds = duration === null ? 0 : Math.max(0, (duration - seconds) / 2);
      measure = startMeasure(this.#ffmpegPath, path, { startSeconds, seconds, sampleRate: EXCERPT_SAMPLE_RATE });
      const aborted = new Promise<never>((_, reject) => {
        const stop = () => {
          measure?.stop();
          reject(signal.reason);
        };
        if (signal.aborted) stop();
        else signal.addEventListener("abort", stop, { once: true });
      });
      aborted.catch(() => {});
      const excerpt = await Promise.race([measure.excerpt, aborted]);
      const excerptSeconds = excerpt.length / EXCERPT_SAMPLE_RATE;
      const essentia = await Promise.race([this.#thread.measure(excerpt, EXCERPT_SAMPLE_RATE, signal), aborted]);
      const whole = await Promise.race([measure.whole, aborted]);
      return combine(essentia, whole, whole.decodedSeconds ?? duration ?? excerptSeconds);
    } finally {
      // Whatever failed, ffmpeg goes too (a no-op once it has ended).
      measure?.stop();
      clearTimeout(timer);
      outer?.removeEventListener("abort", onOuterAbort);
    }
  }
}

function combine(essentia: ExcerptFeatures, whole: WholeFileMeasure, durationSeconds: number): TrackFeatures {
  const { danceabilityRaw, extra, ...measured } = essentia;
  const loudness = whole.integratedLufs;
  return {
    ...measured,
    durationSeconds: Math.round(durationSeconds * 1000) / 1000,
    loudnessLufs: loudness,
    loudnessRangeLu: whole.rangeLu,
    truePeakDbtp: whole.truePeakDbtp,
    energy: loudness === null ? null : round3(clamp01((loudness - ENERGY_SCALE.quietLufs) / (ENERGY_SCALE.loudLufs - ENERGY_SCALE.quietLufs))),
    danceability: danceabilityRaw === null ? null : round3(clamp01(danceabilityRaw / DANCEABILITY_SCALE)),
    extra: { ...extra, ...(danceabilityRaw === null ? {} : { essentiaDanceability: danceabilityRaw }) },
  };
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export { AnalysisError };
