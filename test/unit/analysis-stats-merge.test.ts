import { describe, expect, it } from "vitest";
import { emptyStats, mergeStats, POINT_SAMPLE, summarise, type CellStats } from "../../core/analysis/analysis-stats.ts";

/** The stats of tracks given as [id, tempo], as cellStatsSql would compute them (tempo only). */
function cell(tracks: [string, number][]): CellStats {
  const stats = emptyStats();
  stats.tracks = stats.analysed = tracks.length;
  const tempo = stats.features.tempo;
  for (const [id, bpm] of tracks) {
    tempo.n += 1;
    tempo.sum = (tempo.sum ?? 0) + bpm;
    tempo.sumsq = (tempo.sumsq ?? 0) + bpm * bpm;
    if (tempo.min === null || bpm < tempo.min || (bpm === tempo.min && id < tempo.minTrack!)) [tempo.min, tempo.minTrack] = [bpm, id];
    if (tempo.max === null || bpm > tempo.max || (bpm === tempo.max && id < tempo.maxTrack!)) [tempo.max, tempo.maxTrack] = [bpm, id];
    stats.tempoBins[Math.floor(bpm / 5) * 5] = (stats.tempoBins[Math.floor(bpm / 5) * 5] ?? 0) + 1;
  }
  return stats;
}

// Cells hold disjoint sets of tracks: merging them must give what one computation over the union gives.
describe("merging cells", () => {
  it("adds sums and counts, keeps extremes with their track (ties to the lowest id), and merges samples", () => {
    const a: [string, number][] = [["a1", 100], ["a2", 140], ["a3", 90]];
    const b: [string, number][] = [["b1", 140], ["b2", 60]];
    const merged = mergeStats([cell(a), cell(b)]);
    expect(merged).toMatchObject({ tracks: 5, analysed: 5, tempoBins: { 60: 1, 90: 1, 100: 1, 140: 2 } });
    expect(merged.features.tempo).toEqual(cell([...a, ...b]).features.tempo);
    expect([merged.features.tempo.maxTrack, merged.features.tempo.minTrack]).toEqual(["a2", "b2"]);
    expect(summarise(merged.features.tempo)).toEqual({ count: 5, mean: 106, stddev: Math.sqrt((36 + 1156 + 256 + 1156 + 2116) / 5), min: 60, max: 140 });
    expect(mergeStats([cell(a), emptyStats()]).features.tempo).toEqual(cell(a).features.tempo);
    expect(summarise(emptyStats().features.tempo)).toEqual({ count: 0, mean: null, stddev: null, min: null, max: null });

    const points = (from: number, n: number) => Array.from({ length: n }, (_, i): [number, string, number, number] => [from + 2 * i, `t${from + 2 * i}`, 0.5, 0.5]);
    const left = { ...emptyStats(), points: points(0, POINT_SAMPLE) };
    const right = { ...emptyStats(), points: points(1, POINT_SAMPLE) };
    // The union's lowest ranks, half from each side.
    expect(mergeStats([left, right]).points.map((p) => p[0])).toEqual(Array.from({ length: POINT_SAMPLE }, (_, i) => i));
  });
});
