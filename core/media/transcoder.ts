import { execFile, spawn, type ChildProcessByStdio } from "node:child_process";
import type { FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { getLogger } from "../../config/logging.ts";
import {
  DEFAULT_FORMAT,
  ffmpegArgs,
  planStream,
  type SourceAudio,
  type StreamPlan,
  type StreamRequest,
  type TranscodeFormat,
  type TranscodeTarget,
} from "./transcode-plan.ts";

const log = getLogger(["polyphony", "media", "transcoder"]);

/** What the health endpoint shows about ffmpeg. */
export interface FfmpegStatus {
  available: boolean;
  version: string | null;
}

export interface TranscodeExit {
  code: number | null;
  /** True when stop() ended it (the client left, or enough bytes were sent): not a failure. */
  stopped: boolean;
  /** The end of ffmpeg's error output, for the log. */
  stderr: string;
}

export interface RunningTranscode {
  /** ffmpeg's stdout: the encoded audio. */
  output: Readable;
  /** Settles once ffmpeg has exited and its output streams are closed. */
  exited: Promise<TranscodeExit>;
  /** Kills ffmpeg at once; its slot is free as soon as the process is gone. Idempotent. */
  stop(): void;
}

/** Where ffmpeg finds the source descriptor handed to it as fd 3 (Linux and macOS alike). */
const INHERITED_INPUT = "/dev/fd/3";
const ENCODERS: Record<TranscodeFormat, string> = { mp3: "libmp3lame", opus: "libopus" };
const STDERR_TAIL = 2000;

/**
 * Runs ffmpeg for streams: finds it once at start, decides per request whether to transcode, and bounds
 * how many encodes one web process runs at once (each takes a CPU core while the client reads fast).
 */
export class Transcoder {
  readonly #ffmpegPath: string;
  readonly #maxConcurrent: number;
  #status: FfmpegStatus = { available: false, version: null };
  #formats = new Set<TranscodeFormat>();
  #running = 0;

  constructor(options: { ffmpegPath: string; maxConcurrent: number }) {
    this.#ffmpegPath = options.ffmpegPath;
    this.#maxConcurrent = options.maxConcurrent;
  }

  get status(): FfmpegStatus {
    return { ...this.#status };
  }

  /** Transcodes running now. */
  get running(): number {
    return this.#running;
  }

  /** Asks ffmpeg for its version and encoders; logs once what streams will do. Never throws. */
  async detect(): Promise<FfmpegStatus> {
    try {
      // One run: the banner (on stderr) names the version, stdout lists the encoders.
      const { stdout: encoders, stderr: banner } = await promisify(execFile)(this.#ffmpegPath, ["-nostdin", "-encoders"], {
        timeout: 10_000,
        maxBuffer: 4 * 1024 * 1024,
      });
      const version = /^ffmpeg version (\S+)/m.exec(banner)?.[1] ?? "unknown";
      this.#formats = new Set((Object.keys(ENCODERS) as TranscodeFormat[]).filter((f) => new RegExp(`\\s${ENCODERS[f]}\\s`).test(encoders)));
      this.#status = { available: true, version };
      if (this.#formats.size === 0) {
        log.warning("ffmpeg {version} at {path} has neither libmp3lame nor libopus: streams send the original files", { version, path: this.#ffmpegPath });
      } else {
        log.info("ffmpeg {version} found at {path}: transcoding to {formats}, at most {max} at once", {
          version, path: this.#ffmpegPath, formats: [...this.#formats].join(", "), max: this.#maxConcurrent,
        });
      }
    } catch (error) {
      this.#status = { available: false, version: null };
      this.#formats.clear();
      log.warning("ffmpeg not usable at {path} ({reason}): streams send the original files; install ffmpeg or set FFMPEG_PATH to transcode", {
        path: this.#ffmpegPath, reason: (error as Error).message,
      });
    }
    return this.status;
  }

  /** planStream, then what this ffmpeg can do: a missing ffmpeg or encoder means the original file. */
  plan(request: StreamRequest, source: SourceAudio): StreamPlan {
    const fallback = this.#formats.has(DEFAULT_FORMAT) ? DEFAULT_FORMAT : ([...this.#formats][0] ?? DEFAULT_FORMAT);
    const plan = planStream(request, source, fallback);
    if (plan.kind === "raw") return plan;
    if (!this.#status.available) return { kind: "raw", reason: `ffmpeg is not available at ${this.#ffmpegPath}` };
    if (this.#formats.has(plan.format)) return plan;
    if (!this.#formats.has(fallback)) return { kind: "raw", reason: "this ffmpeg has neither libmp3lame nor libopus" };
    return planStream({ ...request, format: fallback }, source, fallback);
  }

  /**
   * Starts ffmpeg on an opened file when a slot is free (undefined when all are taken). ffmpeg inherits the
   * descriptor as its fd 3 and reads /dev/fd/3: the file the caller checked, never a name that may have
   * become a link since. The slot is given back when the process exits, however it ends.
   */
  start(input: FileHandle, target: TranscodeTarget, offsetSeconds = 0): RunningTranscode | undefined {
    if (this.#running >= this.#maxConcurrent) return undefined;
    this.#running++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#running--;
    };
    const child = spawn(this.#ffmpegPath, ffmpegArgs(INHERITED_INPUT, target, offsetSeconds), {
      stdio: ["ignore", "pipe", "pipe", input.fd] as const,
    }) as ChildProcessByStdio<null, Readable, Readable>;
    let stderr = "";
    let stopped = false;
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr = (stderr + text).slice(-STDERR_TAIL)));
    const exited = new Promise<TranscodeExit>((resolve) => {
      child.once("error", (error) => {
        release();
        resolve({ code: null, stopped, stderr: error.message });
      });
      child.once("exit", release);
      child.once("close", (code) => resolve({ code, stopped, stderr: stderr.trim() }));
    });
    log.debug("ffmpeg started: {format} {kbps} kbit/s from {offset} s", { format: target.format, kbps: target.bitrateKbps, offset: offsetSeconds });
    return {
      output: child.stdout,
      exited,
      stop: () => {
        if (stopped) return;
        stopped = true;
        // SIGKILL: nothing of the output is wanted any more, and a process blocked on a full pipe
        // would not get to handle a gentler signal.
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        child.stdout.destroy();
      },
    };
  }
}
