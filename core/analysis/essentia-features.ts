// The Essentia measures of one excerpt (mono float32 at EXCERPT_SAMPLE_RATE). Runs inside the analysis
// worker thread; each algorithm's settings are part of ANALYSIS_SETTINGS, so changing one changes the
// analyser's version and tracks are measured again.
import type Essentia from "essentia.js/dist/essentia.js-core.umd.js";
import type { EssentiaVector } from "essentia.js/dist/essentia.js-core.umd.js";
import { KEY_TONICS, type KeyMode, type KeyTonic } from "./track-features.ts";

/** RhythmExtractor2013 and OnsetRate take no sample rate: they are built for 44.1 kHz. */
export const EXCERPT_SAMPLE_RATE = 44_100;

export const ANALYSIS_SETTINGS = {
  /** A shorter excerpt (a track under 10 s) gets only loudness and the spectral extras. */
  minSeconds: 10,
  /** Degara's beat tracker: a fifth of the multifeature one's time at the same BPM (README, "Audio analysis"). */
  rhythm: { method: "degara", minTempo: 40, maxTempo: 208 },
  key: { profile: "bgate", frameSize: 4096, hopSize: 4096, hpcpSize: 12, minFrequency: 25, maxFrequency: 3500 },
  danceability: { minTauMs: 310, maxTauMs: 8800 },
  dynamicComplexity: { frameSeconds: 0.2 },
  /** Onsets are counted over the middle of the excerpt; fewer than this many per second is no beat to track. */
  onsets: { seconds: 30, minPerSecond: 0.5 },
} as const;

/** Below this level (dBFS RMS) the excerpt is silence: no tempo or key is claimed. */
const SILENCE_DBFS = -60;

export interface ExcerptFeatures {
  tempoBpm: number | null;
  tempoConfidence: number | null;
  keyTonic: KeyTonic | null;
  keyMode: KeyMode | null;
  keyStrength: number | null;
  /** Essentia's Danceability (DFA), 0..~3. */
  danceabilityRaw: number | null;
  dynamicComplexity: number | null;
  extra: Record<string, number>;
}

/** Essentia names flats where the contract names sharps. */
const FLATS: Record<string, KeyTonic> = { Db: "C#", Eb: "D#", Gb: "F#", Ab: "G#", Bb: "A#" };

export function measureExcerpt(essentia: Essentia, samples: Float32Array, sampleRate: number): ExcerptFeatures {
  const signal = essentia.arrayToVector(samples);
  try {
    const rms = essentia.RMS(signal).rms;
    const rmsDbfs = rms > 0 ? 20 * Math.log10(rms) : -Infinity;
    const silent = !(rmsDbfs > SILENCE_DBFS);
    const extra: Record<string, number> = {
      excerptSeconds: round(samples.length / sampleRate, 2),
      ...(Number.isFinite(rmsDbfs) ? { excerptRmsDbfs: round(rmsDbfs, 2) } : {}),
      zeroCrossingsPerSecond: round(essentia.ZeroCrossingRate(signal).zeroCrossingRate * sampleRate, 1),
      // Brightness: SpectralCentroidTime's time-domain estimate over the whole excerpt (Hz).
      spectralCentroidHz: round(essentia.SpectralCentroidTime(signal, sampleRate).centroid, 0),
    };
    // Silence has no tempo, key or dynamics; a few seconds are too few for them (the DFA alone spans 8.8 s).
    if (silent || samples.length < ANALYSIS_SETTINGS.minSeconds * sampleRate) {
      return { danceabilityRaw: null, dynamicComplexity: null, tempoBpm: null, tempoConfidence: null, keyTonic: null, keyMode: null, keyStrength: null, extra };
    }
    const dynamics = essentia.DynamicComplexity(signal, ANALYSIS_SETTINGS.dynamicComplexity.frameSeconds, sampleRate);
    const dance = essentia.Danceability(signal, ANALYSIS_SETTINGS.danceability.maxTauMs, ANALYSIS_SETTINGS.danceability.minTauMs, sampleRate);
    dance.dfa.delete();
    const base = { danceabilityRaw: round(dance.danceability, 4), dynamicComplexity: round(dynamics.dynamicComplexity, 3) };
    const onsetRate = measureOnsetRate(essentia, samples, sampleRate);
    extra.onsetRate = round(onsetRate, 2);
    // A beat tracker finds a "tempo" in a held tone too; without onsets there is no beat to claim.
    const tempo = onsetRate >= ANALYSIS_SETTINGS.onsets.minPerSecond ? measureTempo(essentia, signal, extra) : { tempoBpm: null, tempoConfidence: null };
    return { ...base, ...tempo, ...measureKey(essentia, signal, sampleRate), extra };
  } finally {
    signal.delete();
  }
}

/** Onsets per second in the middle of the excerpt (OnsetRate: HFC and complex-domain detection functions). */
function measureOnsetRate(essentia: Essentia, samples: Float32Array, sampleRate: number): number {
  const length = Math.min(samples.length, Math.round(ANALYSIS_SETTINGS.onsets.seconds * sampleRate));
  const start = Math.floor((samples.length - length) / 2);
  const middle = essentia.arrayToVector(samples.subarray(start, start + length));
  try {
    const result = essentia.OnsetRate(middle);
    result.onsets.delete();
    // OnsetRate counts per second of a 44.1 kHz signal; it is given exactly that.
    return result.onsetRate;
  } finally {
    middle.delete();
  }
}

function measureTempo(essentia: Essentia, signal: EssentiaVector, extra: Record<string, number>): Pick<ExcerptFeatures, "tempoBpm" | "tempoConfidence"> {
  const { method, minTempo, maxTempo } = ANALYSIS_SETTINGS.rhythm;
  const rhythm = essentia.RhythmExtractor2013(signal, maxTempo, method, minTempo);
  try {
    const beats = rhythm.ticks.size();
    extra.beatCount = beats;
    if (beats < 4 || !(rhythm.bpm > 0)) return { tempoBpm: null, tempoConfidence: null };
    // Degara's tracker gives no confidence of its own: how many of the beat intervals agree with the main
    // peak of their BPM histogram (0..1) says how steady the beat it found is.
    const histogram = essentia.BpmHistogramDescriptors(rhythm.bpmIntervals);
    histogram.histogram.delete();
    extra.bpmHistogramFirstPeakBpm = histogram.firstPeakBPM;
    extra.bpmHistogramFirstPeakSpread = round(histogram.firstPeakSpread, 3);
    if (histogram.secondPeakWeight > 0) {
      extra.bpmHistogramSecondPeakBpm = histogram.secondPeakBPM;
      extra.bpmHistogramSecondPeakWeight = round(histogram.secondPeakWeight, 3);
    }
    return { tempoBpm: round(rhythm.bpm, 2), tempoConfidence: round(clamp01(histogram.firstPeakWeight), 3) };
  } finally {
    rhythm.ticks.delete();
    rhythm.estimates.delete();
    rhythm.bpmIntervals.delete();
  }
}

function measureKey(essentia: Essentia, signal: EssentiaVector, sampleRate: number): Pick<ExcerptFeatures, "keyTonic" | "keyMode" | "keyStrength"> {
  const k = ANALYSIS_SETTINGS.key;
  const key = essentia.KeyExtractor(signal, true, k.frameSize, k.hopSize, k.hpcpSize, k.maxFrequency, 60, k.minFrequency, 0.2, k.profile, sampleRate);
  const tonic = FLATS[key.key] ?? (KEY_TONICS as readonly string[]).find((name) => name === key.key);
  const mode: KeyMode | null = key.scale === "major" || key.scale === "minor" ? key.scale : null;
  if (!tonic || !mode) return { keyTonic: null, keyMode: null, keyStrength: null };
  return { keyTonic: tonic as KeyTonic, keyMode: mode, keyStrength: round(clamp01(key.strength), 3) };
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
