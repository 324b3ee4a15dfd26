import { KEY_TONICS, type KeyMode, type KeyTonic } from "./track-features.ts";

// Feature aggregates (issue 20) as mergeable sums, and what a scope's answer is made of them. Cells
// (migrations/0029) are merged here: sums add, extremes compare, bottom-k samples merge into the
// sample of the union.

/** The aggregated features, by name, and their track_analysis columns. */
export const STAT_FEATURES = {
  tempo: "tempo_bpm",
  loudness: "loudness_lufs",
  energy: "energy",
  danceability: "danceability",
  dynamicComplexity: "dynamic_complexity",
} as const;
export type StatFeature = keyof typeof STAT_FEATURES;

/** Width of a tempo histogram bar. */
export const TEMPO_BIN_BPM = 5;
/** Points of the energy/danceability chart: at most this many, sampled evenly by track id hash. */
export const POINT_SAMPLE = 500;

export interface FeatureSums {
  n: number;
  sum: number | null;
  sumsq: number | null;
  min: number | null;
  max: number | null;
  minTrack: string | null;
  maxTrack: string | null;
}

/** A cell's (or a small scope's) stats, as cellStatsSql computes them. */
export interface CellStats {
  tracks: number;
  analysed: number;
  features: Record<StatFeature, FeatureSums>;
  /** "C# minor" -> tracks. */
  keys: Record<string, number>;
  /** Lower bound of a TEMPO_BIN_BPM-wide bin -> tracks. */
  tempoBins: Record<string, number>;
  /** Release year -> [tracks, sum of loudness]. */
  years: Record<string, [number, number]>;
  /** [rank, track id, energy, danceability], by rank; left out of cells whose points cannot be in the merged sample. */
  points: [number, string, number, number][];
}

const emptySums = (): FeatureSums => ({ n: 0, sum: null, sumsq: null, min: null, max: null, minTrack: null, maxTrack: null });

export function emptyStats(): CellStats {
  const features = Object.fromEntries(Object.keys(STAT_FEATURES).map((f) => [f, emptySums()])) as CellStats["features"];
  return { tracks: 0, analysed: 0, features, keys: {}, tempoBins: {}, years: {}, points: [] };
}

const addCounts = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
};

/** Is (value, track) a better extreme than (best, bestTrack)? Ties go to the lowest id, as in SQL. */
const better = (value: number, track: string, best: number | null, bestTrack: string | null, sign: 1 | -1) =>
  best === null || sign * (value - best) > 0 || (value === best && track < bestTrack!);

function mergeSums(into: FeatureSums, from: FeatureSums): void {
  if (!from.n) return;
  into.n += from.n;
  into.sum = (into.sum ?? 0) + from.sum!;
  into.sumsq = (into.sumsq ?? 0) + from.sumsq!;
  if (better(from.min!, from.minTrack!, into.min, into.minTrack, -1)) [into.min, into.minTrack] = [from.min, from.minTrack];
  if (better(from.max!, from.maxTrack!, into.max, into.maxTrack, 1)) [into.max, into.maxTrack] = [from.max, from.maxTrack];
}

/** The stats of the union of disjoint sets of tracks. */
export function mergeStats(parts: CellStats[]): CellStats {
  const total = emptyStats();
  for (const part of parts) {
    total.tracks += part.tracks;
    total.analysed += part.analysed;
    for (const f of Object.keys(STAT_FEATURES) as StatFeature[]) mergeSums(total.features[f], part.features[f]);
    addCounts(total.keys, part.keys);
    addCounts(total.tempoBins, part.tempoBins);
    for (const [year, [n, sum]] of Object.entries(part.years)) {
      const [n0, sum0] = total.years[year] ?? [0, 0];
      total.years[year] = [n0 + n, sum0 + sum];
    }
    total.points.push(...(part.points ?? []));
  }
  total.points = total.points.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1)).slice(0, POINT_SAMPLE);
  return total;
}

export interface FeatureSummary {
  /** Tracks with this feature measured. */
  count: number;
  mean: number | null;
  /** Population standard deviation. */
  stddev: number | null;
  min: number | null;
  max: number | null;
}

export function summarise(sums: FeatureSums): FeatureSummary {
  if (!sums.n) return { count: 0, mean: null, stddev: null, min: null, max: null };
  const mean = sums.sum! / sums.n;
  const variance = Math.max(0, sums.sumsq! / sums.n - mean * mean); // rounding can dip below 0
  return { count: sums.n, mean, stddev: Math.sqrt(variance), min: sums.min, max: sums.max };
}

/** The superlatives: which extreme of which feature each names. */
export const SUPERLATIVES = [
  ["fastest", "tempo", "max"],
  ["slowest", "tempo", "min"],
  ["loudest", "loudness", "max"],
  ["quietest", "loudness", "min"],
  ["mostEnergetic", "energy", "max"],
  ["calmest", "energy", "min"],
  ["mostDanceable", "danceability", "max"],
  ["leastDanceable", "danceability", "min"],
  ["mostDynamic", "dynamicComplexity", "max"],
  ["leastDynamic", "dynamicComplexity", "min"],
] as const satisfies readonly (readonly [string, StatFeature, "min" | "max"])[];

/** The 24 keys in order (C major, C minor, C# major...), each with its count (0 when none). */
export function keyDistribution(keys: Record<string, number>): { tonic: KeyTonic; mode: KeyMode; count: number }[] {
  return KEY_TONICS.flatMap((tonic) => (["major", "minor"] as const).map((mode) => ({ tonic, mode, count: keys[`${tonic} ${mode}`] ?? 0 })));
}

/** Contiguous tempo bins from the lowest to the highest one that holds a track. */
export function tempoHistogram(bins: Record<string, number>): { fromBpm: number; count: number }[] {
  const starts = Object.keys(bins).map(Number);
  if (!starts.length) return [];
  const out = [];
  for (let from = Math.min(...starts); from <= Math.max(...starts); from += TEMPO_BIN_BPM) out.push({ fromBpm: from, count: bins[from] ?? 0 });
  return out;
}
