// What the analyser measures in a track's audio (issue 20), and the contract between the analyser
// (core/analysis/analyser*.ts, run by the worker) and what stores and reads the features. One row of
// `track_analysis` (migration 0027) holds one TrackFeatures.

export const KEY_TONICS = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"] as const;
export type KeyTonic = (typeof KEY_TONICS)[number];
export type KeyMode = "major" | "minor";

/** Features of one track. A measure the analyser could not take is null, never a guess. */
export interface TrackFeatures {
  durationSeconds: number;
  /** Beats per minute, and how sure the beat tracker is (0..1). */
  tempoBpm: number | null;
  tempoConfidence: number | null;
  keyTonic: KeyTonic | null;
  keyMode: KeyMode | null;
  /** How well the audio fits the key's profile (0..1). */
  keyStrength: number | null;
  /** EBU R128 integrated loudness (LUFS), loudness range (LU) and true peak (dBTP). */
  loudnessLufs: number | null;
  loudnessRangeLu: number | null;
  truePeakDbtp: number | null;
  /** 0..1; how each is derived is documented in the README. */
  energy: number | null;
  danceability: number | null;
  /** Essentia's dynamic complexity, in dB. */
  dynamicComplexity: number | null;
  /** Further measures by name (units in the README). */
  extra: Record<string, number>;
}

/** A file the analyser cannot measure: the message is stored as the track's reason. */
export class AnalysisError extends Error {
  override readonly name = "AnalysisError";
}

/** Measures one audio file. Implementations bound memory and time; aborting the signal stops the work. */
export interface AudioAnalyser {
  /** Stored with each result; a row written by another version is analysed again. */
  readonly version: string;
  /** Resolves with the features, or rejects with an AnalysisError saying why the file cannot be measured. */
  analyse(path: string, options: { signal?: AbortSignal; timeLimitMs?: number }): Promise<TrackFeatures>;
}
