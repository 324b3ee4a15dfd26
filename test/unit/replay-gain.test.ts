import { describe, expect, it } from "vitest";
import { albumLoudness, effectiveReplayGain, gainOf, peakOf } from "../../core/analysis/replay-gain.ts";

describe("ReplayGain from loudness", () => {
  it("takes -18 LUFS as the reference and the true peak as a linear value", () => {
    expect(gainOf(-23)).toBe(5);
    expect(gainOf(-9.5)).toBe(-8.5);
    expect(gainOf(null)).toBeNull();
    expect(gainOf(-Infinity)).toBeNull();
    expect(peakOf(0)).toBe(1);
    expect(peakOf(-6.0206)).toBeCloseTo(0.5, 4);
  });

  it("weighs an album's tracks by their duration in power, not by averaging their LUFS", () => {
    // 3 minutes at -10 LUFS and 1 minute at -20: power mean 10*log10((3*0.1 + 1*0.01)/4) = -11.11, not -12.5.
    const album = albumLoudness([
      { loudnessLufs: -10, durationSeconds: 180, truePeakDbtp: -0.5 },
      { loudnessLufs: -20, durationSeconds: 60, truePeakDbtp: -3 },
    ]);
    expect(album!.loudnessLufs).toBeCloseTo(-11.11, 2);
    expect(album!.truePeakDbtp).toBe(-0.5);
    expect(albumLoudness([])).toBeNull();
  });

  it("keeps each tag the file has and computes only the missing ones", () => {
    const measured = { loudnessLufs: -12, truePeakDbtp: -1 };
    expect(effectiveReplayGain({ trackGain: -4.2, trackPeak: null, albumGain: null, albumPeak: null }, measured, { loudnessLufs: -14, truePeakDbtp: 0 }))
      .toEqual({ trackGain: -4.2, trackPeak: peakOf(-1), albumGain: -4, albumPeak: 1 });
    expect(effectiveReplayGain(null, null, null)).toBeNull();
    expect(effectiveReplayGain(null, measured, null)).toEqual({ trackGain: -6, trackPeak: peakOf(-1), albumGain: null, albumPeak: null });
  });
});
