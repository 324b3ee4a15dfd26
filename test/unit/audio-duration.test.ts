import { describe, expect, it } from "vitest";
import { audioShapeFor } from "../../core/fediverse/domains.ts";
import { durationValue, isoDuration } from "../../federation/mappers/funkwhale-library.ts";

// An Audio's duration: integer seconds for Funkwhale 1.4 (and anyone unknown), an xsd:duration for 2.0.

describe("isoDuration", () => {
  it.each([
    [0, "PT0S"],
    [59, "PT59S"],
    [60, "PT1M"],
    [228, "PT3M48S"],
    [3600, "PT1H"],
    [3725, "PT1H2M5S"],
    [7260, "PT2H1M"],
    [59.4, "PT59S"],
    [59.5, "PT1M"],
    [-3, "PT0S"],
  ])("writes %s s as %s", (seconds, expected) => {
    expect(isoDuration(seconds)).toBe(expected);
  });
});

describe("durationValue", () => {
  it("rounds milliseconds to whole seconds in both forms", () => {
    expect(durationValue(227_600, { durationAs: "seconds" })).toBe(228);
    expect(durationValue(227_600, { durationAs: "iso" })).toBe("PT3M48S");
    expect(durationValue(499, { durationAs: "iso" })).toBe("PT0S");
    expect(durationValue(500, { durationAs: "seconds" })).toBe(1);
  });

  it("sends an unknown duration as 0", () => {
    expect(durationValue(null, { durationAs: "seconds" })).toBe(0);
    expect(durationValue(null, { durationAs: "iso" })).toBe("PT0S");
  });
});

describe("audioShapeFor", () => {
  it.each([
    [{ name: "funkwhale", version: "2.0.0" }, "iso"],
    [{ name: "Funkwhale", version: "2.1.3" }, "iso"],
    [{ name: "funkwhale", version: "3.0.0-rc1" }, "iso"],
    [{ name: "funkwhale", version: "1.4.0" }, "seconds"],
    [{ name: "funkwhale", version: null }, "seconds"],
    [{ name: "funkwhale", version: "develop" }, "seconds"],
    [{ name: "polyphony", version: "2.0.0" }, "seconds"],
    [null, "seconds"],
  ] as const)("%o reads %s", (software, durationAs) => {
    expect(audioShapeFor(software)).toEqual({ durationAs });
  });
});
