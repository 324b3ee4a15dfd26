/**
 * A tag-reader thread (tag-reader-pool.ts): reads one file's tags and, when asked, its SHA-256, off the
 * importer's main thread. The file is read here through the importer's open descriptor, or its bytes come in
 * and go back out as transfers (no copy either way).
 */
import { createHash } from "node:crypto";
import { readSync } from "node:fs";
import { getHeapStatistics } from "node:v8";
import { parentPort } from "node:worker_threads";
import { DomainError } from "../errors.ts";
import type { OpenFile } from "./safe-open.ts";
import { openAudio, readTags } from "./tag-reader.ts";
import type { ReadReply, ReadRequest, ReadResult } from "./tag-reader-pool.ts";

async function sha256File(file: OpenFile): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of file.handle.createReadStream({ start: 0, autoClose: false })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * One buffer the files are read into, kept for the next (the pool gives a thread one file at a time):
 * a new one a file made this thread's garbage collection and page faults a large part of its work.
 */
let spare: Buffer | null = null;
const MIB = 1024 * 1024;

/**
 * A descriptor the caller holds open, read whole (at most the size it had when opened), from offset 0, into
 * the spare buffer when it is free; `release` hands it back once nothing refers to the bytes.
 */
function readWhole({ fd, size }: { fd: number; size: number }): { bytes: Uint8Array; release(): void } {
  const reused = spare && spare.length >= size ? spare : null;
  if (reused || spare) spare = null; // taken, or too small: the one this file gets is kept instead
  // Every byte is read over, or cut off below; whole MiB, so a slightly larger next file fits too.
  const buffer = reused ?? Buffer.allocUnsafeSlow(Math.ceil(size / MIB) * MIB);
  let filled = 0;
  while (filled < size) {
    // Synchronous: this thread reads one file at a time and has nothing else to do meanwhile, and the
    // call then costs no hop through libuv's pool.
    const bytesRead = readSync(fd, buffer, filled, size - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return { bytes: buffer.subarray(0, filled), release: () => void (spare ??= buffer) };
}

async function read(request: ReadRequest): Promise<ReadResult> {
  const { file, root } = request;
  if (request.opened) {
    const whole = readWhole(request.opened);
    try {
      const { bytes: _kept, ...rest } = await read({ ...request, opened: undefined, bytes: whole.bytes });
      // The caller has the file open; its bytes stay here. The picture may be a view into them: its own copy.
      if (rest.tags.picture) rest.tags.picture.data = rest.tags.picture.data.slice();
      return rest;
    } finally {
      whole.release();
    }
  }
  const { bytes } = request;
  const options = { root, bytes, siblings: new Set(request.siblings), skipPictures: request.skipPictures, genreSeparators: request.genreSeparators };
  if (bytes) {
    const tags = await readTags(file, options);
    return { tags, checksum: request.hash ? createHash("sha256").update(bytes).digest("hex") : null, bytes };
  }
  // A file too big to hold whole: opened here, inside its folder as the importer's own open was (safe-open.ts).
  const opened = await openAudio(root, file);
  try {
    const tags = await readTags(file, { ...options, file: opened });
    return { tags, checksum: request.hash ? await sha256File(opened) : null };
  } finally {
    await opened.handle.close();
  }
}

/** What can cross to the other thread: a domain error keeps its code, message and details. */
function failure(error: unknown): ReadReply["error"] {
  if (error instanceof DomainError) return { domain: true, code: error.code, message: error.message, details: error.details };
  const { name, message, stack } = error instanceof Error ? error : new Error(String(error));
  return { domain: false, code: name, message, details: stack };
}

parentPort!.on("message", async ({ id, request }: { id: number; request: ReadRequest }) => {
  let reply: ReadReply;
  try {
    const result = await read(request);
    // The picture may be a view into the file's bytes: its own copy, so both buffers can be transferred.
    const picture = result.tags.picture?.data;
    if (picture && picture.byteLength !== picture.buffer.byteLength) result.tags.picture!.data = picture.slice();
    reply = { id, result, heapBytes: getHeapStatistics().total_heap_size };
  } catch (error) {
    reply = { id, error: failure(error), heapBytes: getHeapStatistics().total_heap_size };
  }
  const transfer: ArrayBuffer[] = [];
  if (reply.result?.bytes) transfer.push(reply.result.bytes.buffer as ArrayBuffer);
  if (reply.result?.tags.picture) transfer.push(reply.result.tags.picture.data.buffer as ArrayBuffer);
  parentPort!.postMessage(reply, transfer);
});

// Loaded: from here on, a thread that dies was killed by the file it was reading (tag-reader-pool.ts).
parentPort!.postMessage({ ready: true });
