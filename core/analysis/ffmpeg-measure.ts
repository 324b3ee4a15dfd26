// The ffmpeg side of the analysis: one decode of the file feeds two branches. One measures EBU R128 loudness
// and true peak over the whole file (constant memory, in C); the other hands the analyser a bounded excerpt,
// mono float32 at the rate Essentia's beat tracker is built for. A 2-hour file costs the same memory as a
// 3-minute one: the excerpt buffer is allocated once at its fixed size.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";
import { AnalysisError } from "./track-features.ts";
import { parseLoudnessSummary, type LoudnessSummary } from "./ebur128-summary.ts";

export interface ExcerptPlan {
  /** Where the excerpt starts and how long it is at most (s). */
  startSeconds: number;
  seconds: number;
  sampleRate: number;
}

export interface WholeFileMeasure extends LoudnessSummary {
  /** How much audio ffmpeg decoded (s): the real duration, whatever the container's header claims. */
  decodedSeconds: number | null;
}

export interface RunningMeasure {
  /** Resolves once the excerpt is complete, while ffmpeg may still be measuring the rest of the file. */
  excerpt: Promise<Float32Array<ArrayBuffer>>;
  /** Resolves when ffmpeg has read the whole file. */
  whole: Promise<WholeFileMeasure>;
  /** Kills ffmpeg at once. Idempotent. */
  stop(): void;
}

/** What ffmpeg prints before it fails is long; the end says why. */
const STDERR_TAIL = 16 * 1024;

/** The file's duration from its container (s): null when the container does not say. */
export async function probeDuration(ffmpegPath: string, path: string, signal?: AbortSignal): Promise<number | null> {
  // Without an output ffmpeg prints the input's description and exits 1: ffprobe's answer, from the one
  // program the server is configured with.
  const { stderr } = await run(ffmpegPath, ["-nostdin", "-hide_banner", "-i", path], signal);
  const reason = unreadableReason(stderr);
  if (reason) throw new AnalysisError(reason);
  if (!/Stream #\d+:\d+[^:]*: Audio:/.test(stderr)) throw new AnalysisError("the file has no audio stream ffmpeg can read");
  const match = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(stderr);
  if (!match) return null;
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
}

/** Starts the one decode that gives both the whole-file loudness and the excerpt. */
export function startMeasure(ffmpegPath: string, path: string, plan: ExcerptPlan): RunningMeasure {
  const graph = [
    "[0:a:0]asplit=2[whole][part]",
    // framelog=verbose keeps the 10-per-second frame lines out of the log at -v info: only the summary is printed.
    "[whole]ebur128=peak=true:framelog=verbose[measured]",
    `[part]atrim=start=${plan.startSeconds.toFixed(3)}:duration=${plan.seconds},` +
      `aformat=sample_fmts=flt:channel_layouts=mono:sample_rates=${plan.sampleRate}[excerpt]`,
  ].join(";");
  const args = [
    "-nostdin", "-hide_banner", "-nostats", "-v", "info", "-i", path, "-filter_complex", graph,
    "-map", "[measured]", "-f", "null", "-",
    "-map", "[excerpt]", "-f", "f32le", "pipe:1",
  ];
  const child = spawn(ffmpegPath, args, { stdio: ["ignore", "pipe", "pipe"] }) as ChildProcessByStdio<null, Readable, Readable>;
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr = (stderr + text).slice(-STDERR_TAIL)));

  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) => reject(spawnError(ffmpegPath, error)));
    child.once("close", (code) => resolve(code));
  });
  exited.catch(() => {});

  const bytes = new Uint8Array(new ArrayBuffer(Math.ceil(plan.seconds * plan.sampleRate) * 4));
  let filled = 0;
  const excerpt = new Promise<Float32Array<ArrayBuffer>>((resolve, reject) => {
    let settled = false;
    // Once: the buffer is handed on (transferred to the analysis thread) after the first resolve.
    const done = () => {
      if (settled) return;
      settled = true;
      resolve(new Float32Array(bytes.buffer, 0, Math.floor(filled / 4)));
    };
    child.stdout.on("data", (chunk: Buffer) => {
      if (settled) return;
      const take = Math.min(chunk.length, bytes.length - filled);
      bytes.set(chunk.subarray(0, take), filled);
      filled += take;
      if (filled === bytes.length) done();
    });
    child.stdout.once("end", () => {
      if (filled > 0) done();
    });
    exited.then((code) => {
      if (filled > 0 || settled) return done();
      const decoded = lastReportedTime(stderr);
      if (code === 0 && decoded !== null && decoded > 0 && decoded <= plan.startSeconds) {
        // The header promised more than the file holds: a download or copy cut short.
        reject(new AnalysisError(`the file is cut short: ffmpeg decoded ${decoded.toFixed(1)} s of audio, less than its header announces`));
      } else {
        reject(new AnalysisError(failureReason(stderr, code) ?? "the file holds no audio ffmpeg can decode"));
      }
    }, reject);
  });
  excerpt.catch(() => {});

  const whole = exited.then((code): WholeFileMeasure => {
    const summary = parseLoudnessSummary(stderr);
    if (code === 0 && summary) return { ...summary, decodedSeconds: lastReportedTime(stderr) };
    throw new AnalysisError(failureReason(stderr, code) ?? `ffmpeg ended with code ${code} without measuring the loudness`);
  });
  whole.catch(() => {});

  return {
    excerpt,
    whole,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      child.stdout.destroy();
    },
  };
}

/** The time= of ffmpeg's last progress report: the end of the longest output, here the whole file. */
function lastReportedTime(stderr: string): number | null {
  const times = [...stderr.matchAll(/time=(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/g)];
  const last = times.at(-1);
  return last ? Number(last[1]) * 3600 + Number(last[2]) * 60 + Number(last[3]) : null;
}

/** Runs ffmpeg to its end and hands back its error output (bounded); a missing ffmpeg is an AnalysisError. */
function run(ffmpegPath: string, args: string[], signal?: AbortSignal): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, args, { stdio: ["ignore", "ignore", "pipe"], signal, killSignal: "SIGKILL" });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr = (stderr + text).slice(-STDERR_TAIL)));
    child.once("error", (error: NodeJS.ErrnoException) => reject(error.name === "AbortError" ? error : spawnError(ffmpegPath, error)));
    child.once("close", (code) => resolve({ code, stderr }));
  });
}

function spawnError(ffmpegPath: string, error: NodeJS.ErrnoException): Error {
  if (error.code === "ENOENT" || error.code === "EACCES") {
    return new AnalysisError(`ffmpeg is not available at ${ffmpegPath} (${error.code}): install ffmpeg or set FFMPEG_PATH`);
  }
  return error;
}

/** Why ffmpeg could not open the input, in words a person can act on; undefined when it could. */
function unreadableReason(stderr: string): string | undefined {
  if (/No such file or directory/.test(stderr)) return "the file does not exist (or is not readable by the server)";
  if (/Permission denied/.test(stderr)) return "the server may not read the file (permission denied)";
  if (/Invalid data found when processing input|could not find codec parameters|Format .* detected only with low score/i.test(stderr)) {
    return "ffmpeg cannot read this file as audio: it is damaged or not an audio format ffmpeg knows";
  }
  return undefined;
}

function failureReason(stderr: string, code: number | null): string | undefined {
  const known = unreadableReason(stderr);
  if (known) return known;
  if (code === 0) return undefined;
  const lastLine = stderr.trim().split("\n").filter((line) => !/^\s*$/.test(line)).at(-1);
  return lastLine ? `ffmpeg could not decode the file: ${lastLine.trim()}` : undefined;
}
