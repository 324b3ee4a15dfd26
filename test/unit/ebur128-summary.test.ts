import { describe, expect, it } from "vitest";
import { parseLoudnessSummary } from "../../core/analysis/ebur128-summary.ts";

/** What ffmpeg 5.1's ebur128 prints when the graph is set up (all zero) and again when it ends. */
const summary = (integrated: string, range: string, peak: string) => `
[Parsed_ebur128_1 @ 0x55ae1e752e00] Summary:

  Integrated loudness:
    I:         ${integrated} LUFS
    Threshold: -28.4 LUFS

  Loudness range:
    LRA:         ${range} LU
    Threshold: -38.4 LUFS
    LRA low:   -18.4 LUFS
    LRA high:  -18.4 LUFS

  True peak:
    Peak:       ${peak} dBFS
`;

describe("parseLoudnessSummary (ffmpeg's ebur128 summary)", () => {
  it("reads the last summary: the one printed when the whole stream was measured", () => {
    const stderr = `${summary("0.0", "0.0", "-inf")}size=N/A time=00:04:00.00 bitrate=N/A speed= 183x\n${summary("-18.4", "6.3", "-5.4")}`;
    expect(parseLoudnessSummary(stderr)).toEqual({ integratedLufs: -18.4, rangeLu: 6.3, truePeakDbtp: -5.4 });
  });

  it("gives nulls for silence: -70 LUFS is the gate, not a level, and -inf is no peak", () => {
    expect(parseLoudnessSummary(summary("-70.0", "0.0", "-inf"))).toEqual({ integratedLufs: null, rangeLu: null, truePeakDbtp: null });
  });

  it("keeps a positive true peak (an overshoot past full scale)", () => {
    expect(parseLoudnessSummary(summary("-7.9", "4.1", "1.2"))?.truePeakDbtp).toBe(1.2);
  });

  it("gives undefined when ffmpeg stopped before a summary", () => {
    expect(parseLoudnessSummary("Input #0, flac, from 'x.flac':\n  Duration: 00:04:00.00\n")).toBeUndefined();
  });
});
