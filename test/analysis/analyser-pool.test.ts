import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AnalyserPool } from "../../core/analysis/analyser-pool.ts";
import { EssentiaAnalyser } from "../../core/analysis/essentia-analyser.ts";
import { synthesizeClicks, writeWav } from "../fixtures/synthetic-music.ts";
import { systemProgram } from "../helpers/system-programs.ts";

const ffmpeg = systemProgram("ffmpeg");

// ANALYSIS_CONCURRENCY jobs in one worker process need as many analysers: one measures a file at a time.
describe.skipIf(!ffmpeg)("analyser pool", () => {
  let dir: string;
  let members: EssentiaAnalyser[];
  let pool: AnalyserPool;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "analyser-pool-"));
    members = [0, 1].map(() => new EssentiaAnalyser({ ffmpegPath: ffmpeg! }));
    pool = new AnalyserPool(members);
  });
  afterAll(async () => {
    await pool?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("gives two analyses at once to two analysers, each with its own thread, under one version", async () => {
    expect(pool.version).toBe(members[0]!.version);
    const files = await Promise.all([100, 128].map((bpm) => writeWav(path.join(dir, `${bpm}.wav`), synthesizeClicks(bpm, 20))));
    const [slow, fast] = await Promise.all(files.map((file) => pool.analyse(file, {})));
    expect(Math.abs(slow!.tempoBpm! - 100)).toBeLessThanOrEqual(1);
    expect(Math.abs(fast!.tempoBpm! - 128)).toBeLessThanOrEqual(1);
    // Both threads ran: each measured one of the files.
    for (const member of members) expect(member.peakThreadMemory.wasmBytes).toBeGreaterThan(0);
  }, 60_000);
});
