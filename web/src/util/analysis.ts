// Audio features (issue 20): the REST shapes of /api/v1/.../analysis, and how the pages word them.
import { api } from "../api.ts";

export type AnalysisScope = "collection" | "libraries" | "albums" | "artists" | "playlists";
export type StatFeature = "tempo" | "loudness" | "energy" | "danceability" | "dynamicComplexity";

export interface TrackLabel {
  id: string;
  title: string;
  artistName: string | null;
  albumId: string | null;
  albumTitle: string | null;
}
export interface FeatureSummary { count: number; mean: number | null; stddev: number | null; min: number | null; max: number | null }

export interface AnalysisStats {
  scope: { kind: string; id: string | null; name: string | null };
  tracks: number;
  analysed: number;
  features: Record<StatFeature, FeatureSummary>;
  superlatives: { kind: string; feature: StatFeature; value: number; track: TrackLabel }[];
  modes: { major: number; minor: number };
  keys: { tonic: string; mode: "major" | "minor"; count: number }[];
  tempoHistogram: { binBpm: number; bins: { fromBpm: number; count: number }[] };
  loudnessByYear: { year: number; tracks: number; meanLufs: number }[];
  points: { sampled: boolean; items: (TrackLabel & { energy: number; danceability: number })[] };
}

export interface TrackFeatures {
  trackId: string;
  status: "pending" | "done" | "failed";
  error?: string | null;
  analysedAt?: string;
  features: null | {
    durationSeconds: number | null; tempoBpm: number | null; tempoConfidence: number | null; keyTonic: string | null;
    keyMode: "major" | "minor" | null; keyStrength: number | null; loudnessLufs: number | null; loudnessRangeLu: number | null;
    truePeakDbtp: number | null; energy: number | null; danceability: number | null; dynamicComplexity: number | null;
  };
}

/** The REST path of a scope's aggregates, and the web page of its dashboard. */
export const statsPath = (scope: AnalysisScope, id?: string) => (scope === "collection" ? "/analysis/collection" : `/${scope}/${id}/analysis`);
export const dashboardLink = (scope: AnalysisScope, id?: string) => (scope === "collection" ? "/analysis" : `/analysis/${scope}/${id}`);

export const analysisApi = {
  stats: (scope: AnalysisScope, id?: string) => api.get<AnalysisStats>(statsPath(scope, id)),
  track: (id: string) => api.get<TrackFeatures>(`/tracks/${id}/analysis`),
};

export const FEATURE_LABELS: Record<StatFeature, { label: string; unit: string; digits: number }> = {
  tempo: { label: "Tempo", unit: "BPM", digits: 0 },
  loudness: { label: "Loudness", unit: "LUFS", digits: 1 },
  energy: { label: "Energy", unit: "", digits: 2 },
  danceability: { label: "Danceability", unit: "", digits: 2 },
  dynamicComplexity: { label: "Dynamic complexity", unit: "dB", digits: 1 },
};

export const SUPERLATIVE_LABELS: Record<string, string> = {
  fastest: "Fastest", slowest: "Slowest", loudest: "Loudest", quietest: "Quietest", mostEnergetic: "Most energetic",
  calmest: "Calmest", mostDanceable: "Most danceable", leastDanceable: "Least danceable", mostDynamic: "Most dynamic", leastDynamic: "Least dynamic",
};

/** "128 BPM", "-9.5 LUFS", "0.42": a feature's value with its unit; a dash when not measured. */
export function featureValue(feature: StatFeature, value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  const { unit, digits } = FEATURE_LABELS[feature];
  return `${value.toFixed(digits)}${unit ? ` ${unit}` : ""}`;
}
