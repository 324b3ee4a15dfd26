// The analyser's answers on audio whose truth is known (synthesised by test/fixtures/synthetic-music.ts),
// with the real ffmpeg and essentia.js: tempo, key and mode, loudness and true peak, and the reasons it gives
// when it cannot measure a file.
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EssentiaAnalyser } from "../../core/analysis/essentia-analyser.ts";
import { AnalysisError } from "../../core/analysis/track-features.ts";
import { encodeWav, synthesizeClicks, synthesizeSine, synthesizeSong, writeWav } from "../fixtures/synthetic-music.ts";
import { systemProgram } from "../helpers/system-programs.ts";
import { waitUntil } from "../helpers/wait.ts";

const ffmpeg = systemProgram("ffmpeg");

/** Beat trackers place beats to a frame (11.6 ms at 44.1 kHz): ±1 BPM is the tempo, not a neighbour. */
const BPM_TOLERANCE = 1;

/** The measuring ffmpeg processes this test process started that are still running, from /proc. */
function liveFfmpegChildren(): number[] {
  return readdirSync("/proc").filter((name) => /^\d+$/.test(name)).flatMap((pid) => {
    try {
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/.exec(readFileSync(`/proc/${pid}/stat`, "utf8").trim())!;
      const [state, ppid] = rest!.split(" ");
      if (comm !== "ffmpeg" || Number(ppid) !== process.pid || state === "Z") return [];
      // The measuring one (not the quick look at the file's header before it).
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("ebur128") ? [Number(pid)] : [];
    } catch {
      return [];
    }
  });
}

describe.skipIf(!ffmpeg)("EssentiaAnalyser", () => {
  let dir: string;
  let analyser: EssentiaAnalyser;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "polyphony-analysis-"));
    analyser = new EssentiaAnalyser({ ffmpegPath: ffmpeg!, timeLimitMs: 60_000 });
  });
  /** Two minutes of song, made once: long enough that the time limit and the abort come before the end. */
  let long: Promise<string> | undefined;
  const longSong = () => (long ??= writeWav(path.join(dir, "long.wav"), synthesizeSong({ bpm: 100, tonic: "C", mode: "major", seconds: 120 })));

  afterAll(async () => {
    await analyser.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([100, 128])("finds the tempo of a click track at %i BPM", async (bpm) => {
    const file = await writeWav(path.join(dir, `clicks-${bpm}.wav`), synthesizeClicks(bpm, 30));
    const features = await analyser.analyse(file);
    expect(features.tempoBpm).toBeGreaterThan(bpm - BPM_TOLERANCE);
    expect(features.tempoBpm).toBeLessThan(bpm + BPM_TOLERANCE);
    expect(features.tempoConfidence).toBeGreaterThan(0.5);
    expect(features.durationSeconds).toBeCloseTo(30, 1);
    // One click a beat: the onset rate is the tempo in beats per second.
    expect(features.extra.onsetRate).toBeCloseTo(bpm / 60, 1);
  });

  it.each([
    ["A", "minor", 96],
    ["D#", "major", 112],
  ] as const)("finds %s %s in a chord progression (an MP3)", async (tonic, mode, bpm) => {
    const wav = await writeWav(path.join(dir, `${tonic}-${mode}.wav`), synthesizeSong({ bpm, tonic, mode, seconds: 40, parts: { drums: false } }));
    const file = await encodeWav(ffmpeg!, wav, wav.replace(/\.wav$/, ".mp3"));
    const features = await analyser.analyse(file);
    expect({ tonic: features.keyTonic, mode: features.keyMode }).toEqual({ tonic, mode });
    expect(features.keyStrength).toBeGreaterThan(0.6);
  });

  it("measures a song with drums, bass, chords and arpeggio: tempo, key, and a beat to dance to", async () => {
    const wav = await writeWav(path.join(dir, "song.wav"), synthesizeSong({ bpm: 124, tonic: "F", mode: "minor", seconds: 60 }));
    const features = await analyser.analyse(await encodeWav(ffmpeg!, wav, path.join(dir, "song.flac")));
    expect(features.tempoBpm).toBeGreaterThan(124 - BPM_TOLERANCE);
    expect(features.tempoBpm).toBeLessThan(124 + BPM_TOLERANCE);
    expect({ tonic: features.keyTonic, mode: features.keyMode }).toEqual({ tonic: "F", mode: "minor" });
    // Four on the floor is about as danceable as Essentia's DFA measure gets; a steady tone (below) is 0.
    expect(features.danceability).toBeGreaterThan(0.8);
    expect(features.extra.excerptSeconds).toBe(60);
  });

  it("measures a 1 kHz sine at -20 dBFS as -20 LUFS with a -20 dBTP true peak and no loudness range", async () => {
    // EBU Tech 3341: a stereo 1 kHz sine at -23 dBFS reads -23.0 LUFS; the K-weighting is 0 dB at 1 kHz.
    const file = await writeWav(path.join(dir, "sine.wav"), synthesizeSine(1000, -20, 20));
    const features = await analyser.analyse(file);
    expect(features.loudnessLufs).toBeCloseTo(-20, 1);
    expect(features.truePeakDbtp).toBeCloseTo(-20, 1);
    expect(features.loudnessRangeLu).toBe(0);
    expect(features.energy).toBeCloseTo((-20 + 30) / 25, 3);
    expect(features.danceability).toBe(0);
    expect(features.dynamicComplexity).toBe(0);
    // A held tone has no onsets but its start, so no beat: no tempo rather than the beat tracker's guess.
    expect(features.extra.onsetRate).toBeLessThan(0.5);
    expect(features.tempoBpm).toBeNull();
    expect(features.keyTonic).not.toBeNull();
    expect(features.extra.zeroCrossingsPerSecond).toBeCloseTo(2000, -1);
    expect(Math.abs(features.extra.spectralCentroidHz! - 1000)).toBeLessThan(20);
  });

  it("measures loudness over the whole file, not the excerpt: a quiet half and a loud half", async () => {
    const quiet = synthesizeSine(1000, -25, 90);
    const loud = synthesizeSine(1000, -10, 90);
    const joined = quiet.map((channel, i) => {
      const both = new Float32Array(channel.length * 2);
      both.set(channel);
      both.set(loud[i]!, channel.length);
      return both;
    }) as [Float32Array, Float32Array];
    const file = await writeWav(path.join(dir, "halves.wav"), joined);
    const features = await analyser.analyse(file);
    expect(features.durationSeconds).toBeCloseTo(180, 1);
    expect(features.extra.excerptSeconds).toBe(60);
    // BS.1770's relative gate (10 LU under the level of all blocks, about -12.9 LUFS) leaves only the loud
    // half in the integrated loudness; the range's gate (20 LU under) keeps both: the 15 dB between them.
    expect(features.loudnessLufs).toBeCloseTo(-10, 1);
    expect(features.loudnessRangeLu).toBeGreaterThan(14);
    expect(features.loudnessRangeLu).toBeLessThan(16);
    expect(features.truePeakDbtp).toBeCloseTo(-10, 1);
  });

  it("claims no tempo, key, loudness or energy for digital silence", async () => {
    const file = await writeWav(path.join(dir, "silence.wav"), [new Float32Array(44_100 * 10), new Float32Array(44_100 * 10)]);
    const features = await analyser.analyse(file);
    expect(features).toMatchObject({
      tempoBpm: null, tempoConfidence: null, keyTonic: null, keyMode: null, keyStrength: null,
      loudnessLufs: null, loudnessRangeLu: null, truePeakDbtp: null, energy: null,
    });
    expect(features.durationSeconds).toBeCloseTo(10, 1);
  });

  it("measures only loudness in a track of a few seconds: too short for tempo, key and danceability", async () => {
    const file = await writeWav(path.join(dir, "jingle.wav"), synthesizeSong({ bpm: 120, tonic: "C", mode: "major", seconds: 4 }));
    const features = await analyser.analyse(file);
    expect(features).toMatchObject({ tempoBpm: null, keyTonic: null, keyMode: null, danceability: null, dynamicComplexity: null });
    expect(features.loudnessLufs).toBeLessThan(-5);
    expect(features.durationSeconds).toBeCloseTo(4, 1);
  });

  it("rejects a file that is not audio with a reason a person can act on", async () => {
    const file = path.join(dir, "broken.mp3");
    await writeFile(file, Buffer.from("this is not an MP3, whatever its name says\n".repeat(500)));
    const error = await analyser.analyse(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnalysisError);
    expect((error as Error).message).toMatch(/cannot read this file as audio/);
  });

  it("rejects a file cut short with a reason that says so", async () => {
    // Four minutes, so the excerpt (the middle minute) lies past what is left after the cut.
    const wav = await writeWav(path.join(dir, "whole.wav"), synthesizeSine(440, -10, 240));
    const flac = await encodeWav(ffmpeg!, wav, path.join(dir, "whole.flac"));
    const cut = path.join(dir, "cut.flac");
    // The first tenth: the header still announces 240 s.
    const bytes = await readFile(flac);
    await writeFile(cut, bytes.subarray(0, Math.round(bytes.length / 10)));
    const error = await analyser.analyse(cut).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnalysisError);
    expect((error as Error).message).toMatch(/cut short: ffmpeg decoded \d+\.\d s of audio/);
  });

  it("rejects a file that is gone, and a file with no audio stream", async () => {
    await expect(analyser.analyse(path.join(dir, "missing.flac"))).rejects.toThrow(/does not exist/);
    const video = path.join(dir, "picture.png");
    await writeFile(video, Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64"));
    const error = await analyser.analyse(video).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnalysisError);
    expect((error as Error).message).toMatch(/no audio stream/);
  });

  it("says so when ffmpeg is missing", async () => {
    const without = new EssentiaAnalyser({ ffmpegPath: path.join(dir, "no-ffmpeg-here") });
    const error = await without.analyse(path.join(dir, "sine.wav")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnalysisError);
    expect((error as Error).message).toMatch(/ffmpeg is not available at .*FFMPEG_PATH/);
    await without.close();
  });

  it("leaves the event loop free while Essentia works (its thread, not this one)", async () => {
    const wav = await longSong();
    let last = performance.now();
    let longestGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 20);
    try {
      const features = await analyser.analyse(wav);
      expect(features.tempoBpm).toBeCloseTo(100, 0);
    } finally {
      clearInterval(ticker);
    }
    // Essentia's work on the 60 s excerpt takes well over a second of CPU: on this thread it would block
    // the ticker that long.
    expect(longestGap).toBeLessThan(750);
  });

  it("stops at the time limit with an AnalysisError, and measures the next file as usual", async () => {
    const wav = await longSong();
    const started = performance.now();
    const error = await analyser.analyse(wav, { timeLimitMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnalysisError);
    expect((error as Error).message).toMatch(/time limit of 0.3 s/);
    expect(performance.now() - started).toBeLessThan(2_000);
    const next = await analyser.analyse(await writeWav(path.join(dir, "after-limit.wav"), synthesizeSine(1000, -20, 5)));
    expect(next.loudnessLufs).toBeCloseTo(-20, 1);
  });

  it("stops when the signal aborts, with the signal's reason (not the file's fault)", async () => {
    const controller = new AbortController();
    const wav = await longSong();
    const pending = analyser.analyse(wav, { signal: controller.signal });
    // A second call waits for the first's turn to end; the same abort ends it too, without its turn.
    const queued = analyser.analyse(wav, { signal: controller.signal });
    await waitUntil(() => liveFfmpegChildren().length > 0, { what: "the analysis's ffmpeg", interval: 5 });
    controller.abort(new Error("the worker is shutting down"));
    const started = performance.now();
    const [error, queuedError] = await Promise.all([pending.catch((e: unknown) => e), queued.catch((e: unknown) => e)]);
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(error).not.toBeInstanceOf(AnalysisError);
    expect((error as Error).message).toBe("the worker is shutting down");
    expect((queuedError as Error).message).toBe("the worker is shutting down");
    await waitUntil(() => liveFfmpegChildren().length === 0, { timeout: 250, interval: 10, what: "ffmpeg to be killed" });
    await expect(analyser.analyse(path.join(dir, "missing.wav"), { signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it("names essentia.js's version and its settings in its version", () => {
    expect(analyser.version).toMatch(/essentia\.js 0\.1\.3/);
    expect(analyser.version).toMatch(/rhythm degara/);
    expect(new EssentiaAnalyser({ ffmpegPath: "ffmpeg", excerptSeconds: 30 }).version).not.toBe(analyser.version);
  });
});
