import { describe, expect, it } from "vitest";
import { timeLimitFor } from "../../core/analysis/track-analysis-job.ts";

describe("an analysis's time limit", () => {
  it("is the configured limit plus a tenth of the track's length", () => {
    expect(timeLimitFor(60_000, 4 * 60_000)).toBe(84_000);
    expect(timeLimitFor(60_000, 2 * 3600_000)).toBe(780_000);
  });

  it("is the configured limit when the length is unknown", () => {
    expect(timeLimitFor(60_000, null)).toBe(60_000);
    expect(timeLimitFor(60_000, -5)).toBe(60_000);
  });
});
