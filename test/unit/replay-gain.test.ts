import { describe, expect, it } from "vitest";
import { effectiveReplayGain, gainOf, peakOf } from "../../core/analysis/replay-gain.ts";

describe("ReplayGain from loudness", () => {
  it("takes -18 LUFS as the reference and the true peak as a linear value", () => {
    expect(gainOf(-23)).toBe(5);
    expect(gainOf(-9.5)).toBe(-8.5);
    expect(gainOf(null)).toBeNull();
    expect(gainOf(-Infinity)).toBeNull();
    expect(peakOf(0)).toBe(1);
    expect(peakOf(-6.0206)).toBeCloseTo(0.5, 4);
  });

  it("keeps each tag the file has and computes only the missing ones", () => {
    const measured = { loudnessLufs: -12, truePeakDbtp: -1 };
    expect(effectiveReplayGain({ trackGain: -4.2, trackPeak: null, albumGain: null, albumPeak: null }, measured, { loudnessLufs: -14, truePeakDbtp: 0 }))
      .toEqual({ trackGain: -4.2, trackPeak: peakOf(-1), albumGain: -4, albumPeak: 1 });
    expect(effectiveReplayGain(null, null, null)).toBeNull();
    expect(effectiveReplayGain(null, measured, null)).toEqual({ trackGain: -6, trackPeak: peakOf(-1), albumGain: null, albumPeak: null });
  });
});
