// The worker thread that runs Essentia's WebAssembly: the CPU-bound part of an analysis, kept off the
// worker process's event loop so its jobs, heartbeats and time limits go on. Loaded once, it measures one
// excerpt per message; the analyser terminates the thread to stop a measure that takes too long.
import { parentPort } from "node:worker_threads";
import { getHeapStatistics } from "node:v8";
import wasm from "essentia.js/dist/essentia-wasm.umd.js";
import Essentia from "essentia.js/dist/essentia.js-core.umd.js";
import { measureExcerpt, type ExcerptFeatures } from "./essentia-features.ts";

export interface MeasureRequest {
  id: number;
  samples: Float32Array;
  sampleRate: number;
}

export interface WorkerMemory {
  /** Essentia's WebAssembly memory (it grows and is never given back) and this thread's JS heap, bytes. */
  wasmBytes: number;
  heapBytes: number;
}

export type MeasureReply =
  | { id: number; ok: true; features: ExcerptFeatures; memory: WorkerMemory }
  | { id: number; ok: false; message: string };

/** The first message: the thread is up and Essentia loaded. */
export interface ReadyMessage {
  ready: true;
  essentiaVersion: string;
}

const port = parentPort;
if (!port) throw new Error("essentia-worker.ts runs as a worker thread");
const essentia = new Essentia(wasm);
port.postMessage({ ready: true, essentiaVersion: essentia.version } satisfies ReadyMessage);

port.on("message", (request: MeasureRequest) => {
  let reply: MeasureReply;
  try {
    const features = measureExcerpt(essentia, request.samples, request.sampleRate);
    reply = { id: request.id, ok: true, features, memory: { wasmBytes: wasm.HEAP8.buffer.byteLength, heapBytes: getHeapStatistics().used_heap_size } };
  } catch (error) {
    // Essentia throws numbers (Emscripten exception pointers) as well as Errors.
    reply = { id: request.id, ok: false, message: error instanceof Error ? error.message : `Essentia failed (${String(error)})` };
  }
  port.postMessage(reply);
});
