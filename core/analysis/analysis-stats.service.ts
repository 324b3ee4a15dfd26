import type pg from "pg";
import { NotFound } from "../errors.ts";
import {
  keyDistribution, STAT_FEATURES, summarise, SUPERLATIVES, TEMPO_BIN_BPM, tempoHistogram,
  type CellStats, type FeatureSummary, type StatFeature,
} from "./analysis-stats.ts";
import { matchingSql } from "../playlists/smart-playlist.queries.ts";
import type { SmartRules } from "../playlists/smart-rules.ts";
import {
  SCOPE_NAME_SQL, SCOPE_TRACKS_SQL, statsOf, statsOfCells, trackFeatureRow, trackLabels, type Scope, type TrackLabel,
} from "./analysis-stats.queries.ts";

export type { Scope } from "./analysis-stats.queries.ts";

/** A scope's feature aggregates, as the REST API answers them. */
export interface AnalysisStats {
  scope: { kind: Scope; id: string | null; name: string | null };
  /** Visible tracks in the scope, and how many of them have features (status 'done'). */
  tracks: number;
  analysed: number;
  features: Record<StatFeature, FeatureSummary>;
  superlatives: { kind: string; feature: StatFeature; value: number; track: TrackLabel }[];
  modes: { major: number; minor: number };
  keys: ReturnType<typeof keyDistribution>;
  tempoHistogram: { binBpm: number; bins: ReturnType<typeof tempoHistogram> };
  loudnessByYear: { year: number; tracks: number; meanLufs: number }[];
  /** Energy vs danceability, one point a track: all of them up to POINT_SAMPLE, an even sample beyond. */
  points: { sampled: boolean; items: (TrackLabel & { energy: number; danceability: number })[] };
}

/**
 * Feature aggregates for a scope the viewer sees: the whole visible collection and a library from
 * precomputed cells (recomputing a stale one first), an album, an artist or a playlist on the spot.
 * A scope that is missing or hidden is NotFound alike.
 */
export class AnalysisStatsService {
  readonly #pool: pg.Pool;

  constructor(deps: { pool: pg.Pool }) {
    this.#pool = deps.pool;
  }

  async stats(viewerId: string | null, scope: Scope, id: string | null = null, options: { points?: number } = {}): Promise<AnalysisStats> {
    let name: string | null = null;
    if (scope !== "collection") {
      const { rows } = await this.#pool.query<{ name: string; owner_id?: string; rules?: SmartRules | null }>(SCOPE_NAME_SQL[scope], [viewerId, id]);
      if (!rows[0]) throw new NotFound(scope);
      name = rows[0].name;
      const { owner_id: ownerId, rules } = rows[0];
      if (rules && ownerId && id) {
        const { sql, p } = matchingSql(ownerId, rules, id);
        return this.#answer({ kind: scope, id, name }, await statsOf(this.#pool, `SELECT m.id FROM (${sql}) m`, p.values), options.points ?? Infinity);
      }
    }
    const stats = scope === "collection" || scope === "library"
      ? await statsOfCells(this.#pool, { viewerId, libraryId: scope === "library" ? id : null })
      : await statsOf(this.#pool, SCOPE_TRACKS_SQL[scope], [viewerId, id], `analysis-stats-${scope}`);
    return this.#answer({ kind: scope, id, name }, stats, options.points ?? Infinity);
  }

  /** One track's features: null `features` until it is analysed (or when it failed, with the reason). */
  async trackFeatures(viewerId: string | null, trackId: string) {
    const row = await trackFeatureRow(this.#pool, viewerId, trackId);
    if (!row) throw new NotFound("track");
    if (!row.status) return { trackId, status: "pending" as const, features: null };
    const status = row.status as "done" | "failed";
    return {
      trackId,
      status,
      error: (row.error_message as string | null) ?? null,
      analyserVersion: row.analyser_version as string,
      analysedAt: new Date(row.analysed_at as string).toISOString(),
      features: status === "failed" ? null : {
        durationSeconds: row.duration_seconds, tempoBpm: row.tempo_bpm, tempoConfidence: row.tempo_confidence,
        keyTonic: row.key_tonic, keyMode: row.key_mode, keyStrength: row.key_strength, loudnessLufs: row.loudness_lufs,
        loudnessRangeLu: row.loudness_range_lu, truePeakDbtp: row.true_peak_dbtp, energy: row.energy, danceability: row.danceability,
        dynamicComplexity: row.dynamic_complexity, extra: row.extra,
      },
    };
  }

  async #answer(scope: AnalysisStats["scope"], stats: CellStats, pointLimit: number): Promise<AnalysisStats> {
    const extremes = SUPERLATIVES.flatMap(([kind, feature, end]) => {
      const sums = stats.features[feature];
      const track = end === "max" ? sums.maxTrack : sums.minTrack;
      return track ? [{ kind, feature, value: (end === "max" ? sums.max : sums.min)!, trackId: track }] : [];
    });
    const points = stats.points.slice(0, pointLimit);
    const labels = await trackLabels(this.#pool, [...new Set([...extremes.map((e) => e.trackId), ...points.map((p) => p[1])])]);
    const keys = keyDistribution(stats.keys);
    const energySampled = stats.features.energy.n; // tracks that could be a point (energy and danceability both measured, nearly always)
    return {
      scope,
      tracks: stats.tracks,
      analysed: stats.analysed,
      features: Object.fromEntries(Object.keys(STAT_FEATURES).map((f) => [f, summarise(stats.features[f as StatFeature])])) as AnalysisStats["features"],
      // A track deleted since its cell was computed has no label: left out rather than shown nameless.
      superlatives: extremes.flatMap(({ trackId, ...e }) => (labels.has(trackId) ? [{ ...e, track: labels.get(trackId)! }] : [])),
      modes: {
        major: keys.filter((k) => k.mode === "major").reduce((n, k) => n + k.count, 0),
        minor: keys.filter((k) => k.mode === "minor").reduce((n, k) => n + k.count, 0),
      },
      keys,
      tempoHistogram: { binBpm: TEMPO_BIN_BPM, bins: tempoHistogram(stats.tempoBins) },
      loudnessByYear: Object.entries(stats.years).map(([year, [n, sum]]) => ({ year: Number(year), tracks: n, meanLufs: sum / n }))
        .sort((a, b) => a.year - b.year),
      points: {
        sampled: points.length < energySampled,
        items: points.flatMap(([, id, energy, danceability]) => (labels.has(id) ? [{ ...labels.get(id)!, energy, danceability }] : [])),
      },
    };
  }
}
