// Types for the parts of essentia.js (0.1.3, which ships none for its CommonJS builds) the analyser uses.
// Every algorithm returns an object of outputs; vector outputs live in WebAssembly memory until deleted.

declare module "essentia.js/dist/essentia-wasm.umd.js" {
  /** The Emscripten module: instantiated synchronously when loaded. */
  const wasm: { HEAP8: Int8Array };
  export default wasm;
}

declare module "essentia.js/dist/essentia.js-core.umd.js" {
  export interface EssentiaVector {
    size(): number;
    delete(): void;
  }
  export default class Essentia {
    constructor(wasm: unknown);
    readonly version: string;
    arrayToVector(values: Float32Array): EssentiaVector;
    vectorToArray(vector: EssentiaVector): Float32Array;
    RhythmExtractor2013(signal: EssentiaVector, maxTempo?: number, method?: string, minTempo?: number): {
      bpm: number; ticks: EssentiaVector; confidence: number; estimates: EssentiaVector; bpmIntervals: EssentiaVector;
    };
    BpmHistogramDescriptors(bpmIntervals: EssentiaVector): {
      firstPeakBPM: number; firstPeakWeight: number; firstPeakSpread: number;
      secondPeakBPM: number; secondPeakWeight: number; secondPeakSpread: number; histogram: EssentiaVector;
    };
    KeyExtractor(
      audio: EssentiaVector, averageDetuningCorrection?: boolean, frameSize?: number, hopSize?: number, hpcpSize?: number,
      maxFrequency?: number, maximumSpectralPeaks?: number, minFrequency?: number, pcpThreshold?: number,
      profileType?: string, sampleRate?: number,
    ): { key: string; scale: string; strength: number };
    Danceability(signal: EssentiaVector, maxTau?: number, minTau?: number, sampleRate?: number): { danceability: number; dfa: EssentiaVector };
    DynamicComplexity(signal: EssentiaVector, frameSize?: number, sampleRate?: number): { dynamicComplexity: number; loudness: number };
    OnsetRate(signal: EssentiaVector): { onsets: EssentiaVector; onsetRate: number };
    ZeroCrossingRate(signal: EssentiaVector, threshold?: number): { zeroCrossingRate: number };
    RMS(array: EssentiaVector): { rms: number };
    SpectralCentroidTime(array: EssentiaVector, sampleRate?: number): { centroid: number };
  }
}
