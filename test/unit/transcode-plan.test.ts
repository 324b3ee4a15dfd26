import { describe, expect, it } from "vitest";
import { clampBitrate, estimatedBytes, ffmpegArgs, planStream } from "../../core/media/transcode-plan.ts";

const flac = { suffix: "flac", bitrate: 900_000 };
const mp3 = { suffix: "mp3", bitrate: 320_000 };

describe("planStream (Subsonic's format and maxBitRate rules)", () => {
  it("sends the original without a format or a limit, with format=raw, and within maxBitRate", () => {
    expect(planStream({}, flac).kind).toBe("raw");
    expect(planStream({ maxBitRateKbps: 0 }, flac).kind).toBe("raw");
    expect(planStream({ format: "raw", maxBitRateKbps: 64 }, flac).kind).toBe("raw");
    expect(planStream({ maxBitRateKbps: 900 }, flac).kind).toBe("raw");
    expect(planStream({ maxBitRateKbps: 64 }, { suffix: "flac", bitrate: null }).kind).toBe("raw");
  });

  it("transcodes to Opus when only maxBitRate is below the source", () => {
    expect(planStream({ maxBitRateKbps: 96 }, flac)).toEqual({ kind: "transcode", format: "opus", bitrateKbps: 96 });
  });

  it("transcodes to an explicit format unless it is the source's own within the limit", () => {
    expect(planStream({ format: "MP3" }, flac)).toEqual({ kind: "transcode", format: "mp3", bitrateKbps: 192 });
    expect(planStream({ format: "opus", maxBitRateKbps: 64 }, flac)).toEqual({ kind: "transcode", format: "opus", bitrateKbps: 64 });
    expect(planStream({ format: "mp3" }, mp3).kind).toBe("raw");
    expect(planStream({ format: "flac" }, flac).kind).toBe("raw");
    expect(planStream({ format: "mp3", maxBitRateKbps: 128 }, mp3)).toEqual({ kind: "transcode", format: "mp3", bitrateKbps: 128 });
    // A format we cannot make falls back to the default one.
    expect(planStream({ format: "aac" }, flac)).toEqual({ kind: "transcode", format: "opus", bitrateKbps: 128 });
    expect(planStream({ format: "wav" }, flac, "mp3")).toMatchObject({ format: "mp3" });
  });

  it("keeps bit rates to what the encoders take", () => {
    expect(clampBitrate("mp3", 100)).toBe(96);
    expect(clampBitrate("mp3", 8)).toBe(32);
    expect(clampBitrate("mp3", 1000)).toBe(320);
    expect(clampBitrate("opus", 4)).toBe(16);
    expect(clampBitrate("opus", 1000)).toBe(256);
  });
});

describe("ffmpegArgs", () => {
  it("seeks before the input, keeps the first audio stream only, and never lets the path read as an option", () => {
    const args = ffmpegArgs("-evil name.flac", { format: "opus", bitrateKbps: 96 }, 30);
    expect(args.indexOf("-ss")).toBeLessThan(args.indexOf("-i"));
    expect(args[args.indexOf("-ss") + 1]).toBe("30.000");
    expect(args[args.indexOf("-i") + 1]).toBe("file:-evil name.flac");
    expect(args).toEqual(expect.arrayContaining(["-map", "0:a:0", "-vn", "libopus", "96k", "ogg"]));
    expect(args.at(-1)).toBe("pipe:1");
    expect(ffmpegArgs("/a.flac", { format: "mp3", bitrateKbps: 128 })).not.toContain("-ss");
  });

  it("estimates the length from duration and bit rate", () => {
    expect(estimatedBytes({ format: "mp3", bitrateKbps: 128 }, 4)).toBe(64_000);
  });
});
