// npm run bench:analysis -- [--tracks 8] [--concurrency 2] [--long] [--dir <folder>]
// The audio analyser (core/analysis) on synthesised songs of 3-5 minutes (drums, bass, chords, arpeggio at
// known tempi and keys, half MP3 and half FLAC), as the worker runs it: one EssentiaAnalyser (one ffmpeg, one
// thread) per concurrent analysis. Reports tracks per minute, the real-time factor per core (audio seconds
// over CPU seconds of this process and its ffmpeg children), peak memory per analysis thread, how long 10,000
// tracks take on this machine, and whether tempo and key came out right. --long also analyses a 2-hour input
// (a track repeated by ffmpeg's concat demuxer: no 1 GB file on disk) to show memory does not grow with length.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { EssentiaAnalyser } from "../core/analysis/essentia-analyser.ts";
import { KEY_TONICS, type TrackFeatures } from "../core/analysis/track-features.ts";
import { encodeWav, synthesizeSong, writeWav, type SongSpec } from "../test/fixtures/synthetic-music.ts";

const { values } = parseArgs({
  options: {
    tracks: { type: "string", default: "8" },
    concurrency: { type: "string", default: String(Math.min(2, os.availableParallelism())) },
    long: { type: "boolean", default: false },
    dir: { type: "string" },
    ffmpeg: { type: "string", default: "ffmpeg" },
  },
});
const TRACKS = Number(values.tracks);
const CONCURRENCY = Number(values.concurrency);
const DIR = values.dir ?? path.join(os.tmpdir(), "polyphony-bench-analysis");
const LIBRARY_TRACKS = 10_000;
/** Clock ticks per second in /proc (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** Songs of 3-5 minutes at spread tempi and keys; the same list every run (cached by name in DIR). */
function songs(count: number): (SongSpec & { file: string })[] {
  return Array.from({ length: count }, (_, i) => {
    const bpm = [92, 128, 104, 140, 76, 118, 96, 160][i % 8]!;
    const tonic = KEY_TONICS[(i * 5) % 12]!;
    const mode = i % 3 === 1 ? "minor" : "major";
    const seconds = 180 + ((i * 37) % 121);
    return { bpm, tonic, mode, seconds, seed: i + 1, file: path.join(DIR, `song-${i}-${bpm}-${tonic}-${mode}-${seconds}s.${i % 2 ? "flac" : "mp3"}`) };
  });
}

/** CPU seconds of this process (all threads) and of its ended children (ffmpeg), from /proc on Linux. */
async function cpuSeconds(): Promise<{ own: number; ffmpeg: number }> {
  const own = process.cpuUsage();
  const stat = (await readFile("/proc/self/stat", "utf8")).split(") ")[1]!.split(" ");
  return { own: (own.user + own.system) / 1e6, ffmpeg: (Number(stat[13]) + Number(stat[14])) / USER_HZ }; // cutime, cstime
}

function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

await mkdir(DIR, { recursive: true });
const specs = songs(TRACKS);
console.log(`Synthesising ${TRACKS} songs in ${DIR} (cached between runs)…`);
for (const spec of specs) {
  if (existsSync(spec.file)) continue;
  const wav = await writeWav(spec.file.replace(/\.\w+$/, ".wav"), synthesizeSong(spec));
  await encodeWav(values.ffmpeg, wav, spec.file);
}
const audioSeconds = specs.reduce((sum, s) => sum + s.seconds, 0);

const analysers = Array.from({ length: CONCURRENCY }, () => new EssentiaAnalyser({ ffmpegPath: values.ffmpeg }));
console.log(`Analyser: ${analysers[0]!.version}`);
// One warm-up analysis per thread: loading Essentia's WebAssembly happens once per worker, not per track.
await Promise.all(analysers.map((a) => a.analyse(specs[0]!.file)));

const results: { spec: (typeof specs)[number]; features: TrackFeatures; ms: number }[] = [];
const cpuBefore = await cpuSeconds();
const started = performance.now();
let next = 0;
await Promise.all(
  analysers.map(async (analyser) => {
    while (next < specs.length) {
      const spec = specs[next++]!;
      const t = performance.now();
      const features = await analyser.analyse(spec.file);
      results.push({ spec, features, ms: performance.now() - t });
    }
  }),
);
const wallSeconds = (performance.now() - started) / 1000;
const cpuAfter = await cpuSeconds();
const cpuOwn = cpuAfter.own - cpuBefore.own;
const cpuFfmpeg = cpuAfter.ffmpeg - cpuBefore.ffmpeg;
const cpu = cpuOwn + cpuFfmpeg;

let tempoRight = 0;
let keyRight = 0;
for (const { spec, features, ms } of results.sort((a, b) => a.spec.file.localeCompare(b.spec.file))) {
  const tempoOk = features.tempoBpm !== null && Math.abs(features.tempoBpm - spec.bpm) <= 1;
  const keyOk = features.keyTonic === spec.tonic && features.keyMode === spec.mode;
  tempoRight += tempoOk ? 1 : 0;
  keyRight += keyOk ? 1 : 0;
  console.log(
    `  ${path.basename(spec.file).padEnd(40)} ${(ms / 1000).toFixed(2)} s  ${features.tempoBpm} BPM ${tempoOk ? "✓" : "✗"}  ` +
      `${features.keyTonic} ${features.keyMode} ${keyOk ? "✓" : "✗"}  ${features.loudnessLufs} LUFS  ` +
      `energy ${features.energy} dance ${features.danceability}`,
  );
}

const rtfPerCore = audioSeconds / cpu;
const peak = analysers.map((a) => a.peakThreadMemory).reduce((a, b) => (a.wasmBytes + a.heapBytes > b.wasmBytes + b.heapBytes ? a : b));
const meanTrack = audioSeconds / TRACKS;
const cores = os.availableParallelism();
console.log(`\n${TRACKS} tracks, ${(audioSeconds / 60).toFixed(1)} min of audio, ${CONCURRENCY} analyses at once on ${cores} cores (${os.cpus()[0]?.model}):`);
console.log(`  wall ${wallSeconds.toFixed(1)} s: ${((TRACKS / wallSeconds) * 60).toFixed(1)} tracks/min, ${(audioSeconds / wallSeconds).toFixed(0)}x real time`);
console.log(
  `  CPU ${cpu.toFixed(1)} s (${cpuOwn.toFixed(1)} this process, Essentia's threads included, + ${cpuFfmpeg.toFixed(1)} ffmpeg): ` +
    `${rtfPerCore.toFixed(0)}x real time per core, ${(cpu / TRACKS).toFixed(2)} CPU s per track`,
);
console.log(`  peak memory per analysis thread: ${mb(peak.wasmBytes)} WebAssembly + ${mb(peak.heapBytes)} JS heap; process max RSS ${mb(process.resourceUsage().maxRSS * 1024)}`);
console.log(`  tempo within ±1 BPM: ${tempoRight}/${TRACKS}; key and mode: ${keyRight}/${TRACKS}`);
console.log(
  `  ${LIBRARY_TRACKS} tracks of ${(meanTrack / 60).toFixed(1)} min on all ${cores} cores: ` +
    `${formatDuration((LIBRARY_TRACKS * meanTrack) / (rtfPerCore * cores))} (CPU-bound estimate); ` +
    `at this run's wall rate: ${formatDuration((LIBRARY_TRACKS * wallSeconds) / TRACKS)}`,
);

if (values.long) {
  // ffconcat plays the list as one input; the duration lines let ffmpeg report its length up front.
  const list = path.join(DIR, "two-hours.ffconcat");
  const repeats = Math.ceil(7200 / specs[0]!.seconds);
  await writeFile(list, "ffconcat version 1.0\n" + `file '${path.basename(specs[0]!.file)}'\nduration ${specs[0]!.seconds}\n`.repeat(repeats));
  const analyser = new EssentiaAnalyser({ ffmpegPath: values.ffmpeg, timeLimitMs: 600_000 });
  const rssBefore = process.memoryUsage().rss;
  const t = performance.now();
  const features = await analyser.analyse(list);
  console.log(
    `\n2-hour input (${(features.durationSeconds / 60).toFixed(0)} min): ${((performance.now() - t) / 1000).toFixed(1)} s, ` +
      `${features.loudnessLufs} LUFS, thread peak ${mb(analyser.peakThreadMemory.wasmBytes)} WebAssembly + ${mb(analyser.peakThreadMemory.heapBytes)} heap, ` +
      `process RSS ${mb(rssBefore)} before, ${mb(process.memoryUsage().rss)} after`,
  );
  await analyser.close();
}
await Promise.all(analysers.map((a) => a.close()));
