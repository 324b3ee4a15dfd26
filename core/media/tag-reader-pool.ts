/**
 * A few threads that read tags (tag-reader.worker.ts), so parsing uses the cores the importer's main
 * thread leaves idle while it writes the catalog. One file at a time per thread: a thread that dies (a
 * parser crash, memory) or hangs fails only the file it was reading, with a reason, and is replaced.
 * Threads start on first use and end after a while idle, so an idle server holds none.
 */
import os from "node:os";
import { Worker } from "node:worker_threads";
import type { TrackTags } from "./tags.ts";
import { UnreadableAudio, type UnreadableAudioCode } from "./tag-reader.ts";

export interface ReadRequest {
  file: string;
  /** The folder the file (and its .lrc) may not lead out of (safe-open.ts). */
  root: string;
  /** The whole file, when the caller holds it: transferred to the thread and back (read `result.bytes` after). */
  bytes?: Uint8Array;
  /**
   * The caller's open descriptor of the file and its size, for a file to read whole on the thread: threads
   * share the process's descriptors, so the file the caller opened (inside its folder) is the one read, and
   * its bytes never land on the caller's heap (whose GC they drove). Kept open until the read settles.
   */
  opened?: { fd: number; size: number };
  siblings?: string[];
  skipPictures: boolean;
  genreSeparators?: string;
  /** Whether to compute the file's SHA-256 too. */
  hash: boolean;
}

export interface ReadResult {
  tags: TrackTags;
  checksum: string | null;
  /** The request's bytes, handed back. */
  bytes?: Uint8Array;
}

export interface ReadReply {
  id: number;
  /** The thread's V8 heap, reserved (not just used), after this file. */
  heapBytes: number;
  result?: ReadResult;
  error?: { domain: boolean; code: string; message: string; details: unknown };
}

/** One thread less than the cores (the main thread has work too), at least one, at most four. */
export const READER_THREADS = Math.max(1, Math.min(4, os.availableParallelism() - 1));
/** No parse of a file we accept (tags up to 32 MB) takes this long: a thread still busy is stuck. */
const READ_TIMEOUT_MS = 120_000;
const IDLE_MS = 15_000;
/**
 * A thread whose heap has grown past this is ended once it is idle, and a new one reads on: V8 keeps the
 * pages it grew into, so over a 50,000-file import one thread's heap went from ~45 to ~143 MB with ~20 MB
 * in use. A fresh thread (~0.1 s to start) gives that back.
 */
const RECYCLE_HEAP_BYTES = 64 * 1024 * 1024;

interface Task {
  id: number;
  request: ReadRequest;
  resolve(result: ReadResult): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  task?: Task;
  timer?: NodeJS.Timeout;
  /** Why the thread is being ended, for the file it was reading. */
  ending?: string;
  /** Whether its script loaded (it says so): a thread that dies before is our fault, not the file's. */
  ready?: boolean;
}

function readerStopped(reason: string): UnreadableAudio {
  return new UnreadableAudio("unreadable_audio", `Reading this file stopped the tag reader (${reason}): the file is probably damaged`);
}

export interface TagReaderPoolOptions {
  size?: number;
  /** The thread's script: tag-reader.worker.ts, or a test's stand-in that crashes or hangs on cue. */
  script?: URL;
  timeoutMs?: number;
  /** Heap size past which an idle thread is replaced (RECYCLE_HEAP_BYTES). */
  recycleHeapBytes?: number;
}

export class TagReaderPool {
  readonly #size: number;
  readonly #script: URL;
  readonly #timeoutMs: number;
  readonly #recycleHeapBytes: number;
  readonly #threads = new Set<Thread>();
  readonly #idle: Thread[] = [];
  readonly #queue: Task[] = [];
  #nextId = 0;
  #closed = false;

  constructor(options: TagReaderPoolOptions = {}) {
    this.#size = options.size ?? READER_THREADS;
    this.#script = options.script ?? new URL("./tag-reader.worker.ts", import.meta.url);
    this.#timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS;
    this.#recycleHeapBytes = options.recycleHeapBytes ?? RECYCLE_HEAP_BYTES;
  }

  /** Threads running now (busy or idle). */
  get threads(): number {
    return this.#threads.size;
  }

  read(request: ReadRequest): Promise<ReadResult> {
    if (this.#closed) return Promise.reject(new Error("The tag reader pool is closed"));
    return new Promise((resolve, reject) => {
      const task = { id: this.#nextId++, request, resolve, reject };
      // A read for pictures goes first: it is an album's cover, and the album's other files wait for it
      // (importer.ts). Behind the chunks' other files, it made an import ~6% slower.
      if (request.skipPictures) this.#queue.push(task);
      else this.#queue.unshift(task);
      this.#pump();
    });
  }

  /** Ends every thread; reads still waiting fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const task of this.#queue.splice(0)) task.reject(new Error("The tag reader pool is closed"));
    await Promise.all([...this.#threads].map((thread) => this.#end(thread, "the server is stopping")));
  }

  #pump(): void {
    while (this.#queue.length) {
      const thread = this.#idle.pop() ?? (this.#threads.size < this.#size ? this.#spawn() : undefined);
      if (!thread) return;
      this.#run(thread, this.#queue.shift()!);
    }
  }

  #spawn(): Thread {
    // A heap limit of its own: a file that makes the parser balloon ends this thread, not the server.
    const worker = new Worker(this.#script, { resourceLimits: { maxOldGenerationSizeMb: 512 } });
    const thread: Thread = { worker };
    this.#threads.add(thread);
    thread.worker.on("message", (reply: ReadReply | { ready: true }) => ("ready" in reply ? (thread.ready = true) : this.#settle(thread, reply)));
    // Either way the thread is gone: its file fails with the reason, the queue goes on with a new one.
    thread.worker.on("error", (error) => (thread.ending ??= error.message));
    thread.worker.on("exit", (code) => this.#gone(thread, thread.ending ?? `it exited with code ${code}`));
    return thread;
  }

  #run(thread: Thread, task: Task): void {
    clearTimeout(thread.timer);
    thread.task = task;
    thread.worker.ref();
    thread.timer = setTimeout(() => void this.#end(thread, `it took longer than ${this.#timeoutMs / 1000} s`), this.#timeoutMs);
    const { bytes } = task.request;
    // Only a buffer the view owns whole is moved; a slice of a shared one is copied.
    const movable = bytes && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.byteLength > 0;
    thread.worker.postMessage({ id: task.id, request: task.request }, movable ? [bytes.buffer as ArrayBuffer] : []);
  }

  #settle(thread: Thread, reply: ReadReply): void {
    const task = thread.task;
    if (!task || task.id !== reply.id) return;
    clearTimeout(thread.timer);
    thread.task = undefined;
    if (reply.result) task.resolve(reply.result);
    else if (reply.error?.domain) task.reject(new UnreadableAudio(reply.error.code as UnreadableAudioCode, reply.error.message, reply.error.details));
    else task.reject(Object.assign(new Error(reply.error?.message ?? "tag reader failed"), { name: reply.error?.code, stack: String(reply.error?.details) }));
    if (this.#closed) return;
    if (reply.heapBytes > this.#recycleHeapBytes) {
      void this.#end(thread, "its heap had grown"); // #gone starts the next read on a new thread
      return;
    }
    thread.worker.unref(); // an idle thread never keeps the process alive
    thread.timer = setTimeout(() => void this.#end(thread, "idle"), IDLE_MS).unref();
    this.#idle.push(thread);
    this.#pump();
  }

  #end(thread: Thread, reason: string): Promise<number> {
    thread.ending ??= reason;
    return thread.worker.terminate();
  }

  #gone(thread: Thread, reason: string): void {
    clearTimeout(thread.timer);
    this.#threads.delete(thread);
    const idle = this.#idle.indexOf(thread);
    if (idle >= 0) this.#idle.splice(idle, 1);
    // A reader that never started (a broken install) fails the chunk like any internal error: retried, then
    // reported as the server's failure, never blamed on the files.
    const failure = this.#closed
      ? new Error("The tag reader pool is closed")
      : thread.ready ? readerStopped(reason) : new Error(`The tag reader could not start: ${reason}`);
    thread.task?.reject(failure);
    thread.task = undefined;
    if (!this.#closed) this.#pump();
  }
}
