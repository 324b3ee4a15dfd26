// Owns the worker thread that runs Essentia (essentia-worker.ts): starts it on first use, sends it one
// excerpt at a time, and terminates it when a measure must stop (time limit, abort). A terminated or crashed
// thread is replaced on the next measure.
import { Worker } from "node:worker_threads";
import type { ExcerptFeatures } from "./essentia-features.ts";
import type { MeasureReply, MeasureRequest, ReadyMessage, WorkerMemory } from "./essentia-worker.ts";
import { AnalysisError } from "./track-features.ts";

interface Pending {
  resolve(features: ExcerptFeatures): void;
  reject(error: Error): void;
}

export class EssentiaThread {
  #worker: Worker | undefined;
  #ready: Promise<void> | undefined;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #peak: WorkerMemory = { wasmBytes: 0, heapBytes: 0 };
  #essentiaVersion: string | undefined;

  /** The most memory one thread has held (bytes), over all threads this object started. */
  get peakMemory(): WorkerMemory {
    return { ...this.#peak };
  }

  /** Essentia's own version string, once a thread has loaded it. */
  get essentiaVersion(): string | undefined {
    return this.#essentiaVersion;
  }

  /** Measures an excerpt; the samples' buffer is handed to the thread (unusable here afterwards). */
  async measure(samples: Float32Array<ArrayBuffer>, sampleRate: number, signal: AbortSignal): Promise<ExcerptFeatures> {
    signal.throwIfAborted();
    const worker = this.#start();
    const onAbort = () => this.#stop(worker, signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await this.#ready;
      signal.throwIfAborted();
      const id = this.#nextId++;
      const result = new Promise<ExcerptFeatures>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
      worker.postMessage({ id, samples, sampleRate } satisfies MeasureRequest, [samples.buffer]);
      return await result;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Ends the thread (the next measure starts another). */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (worker) this.#stop(worker, new AnalysisError("the analyser was closed"));
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL("./essentia-worker.ts", import.meta.url));
    this.#worker = worker;
    this.#ready = new Promise<void>((resolve, reject) => {
      worker.once("message", (message: ReadyMessage) => {
        this.#essentiaVersion = message.essentiaVersion;
        worker.on("message", (reply: MeasureReply) => this.#settle(reply));
        resolve();
      });
      worker.once("error", (error) => {
        reject(new AnalysisError(`the analysis thread failed: ${error.message}`));
        this.#stop(worker, new AnalysisError(`the analysis thread failed: ${error.message}`));
      });
      worker.once("exit", (code) => this.#stop(worker, new AnalysisError(`the analysis thread ended (exit code ${code})`)));
    });
    this.#ready.catch(() => {});
    return worker;
  }

  #settle(reply: MeasureReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (!reply.ok) {
      pending.reject(new AnalysisError(`Essentia could not measure the audio: ${reply.message}`));
      return;
    }
    this.#peak = {
      wasmBytes: Math.max(this.#peak.wasmBytes, reply.memory.wasmBytes),
      heapBytes: Math.max(this.#peak.heapBytes, reply.memory.heapBytes),
    };
    pending.resolve(reply.features);
  }

  /** Terminates the thread and fails what it was doing with the reason. */
  #stop(worker: Worker, reason: Error): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#ready = undefined;
    for (const pending of this.#pending.values()) pending.reject(reason);
    this.#pending.clear();
    void worker.terminate();
  }
}
