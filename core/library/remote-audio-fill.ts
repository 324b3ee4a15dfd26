/**
 * One download of a remote upload's audio into the cache: a signed GET whose bytes go to a `.part` file,
 * read back by any number of listeners as they arrive (each from where its range starts), and handed to
 * the cache (`keep`) only once every announced byte is there. A failure removes the `.part` file: a
 * partial copy is never kept, and a listener still waiting for bytes that will not come gets an error.
 */
import { mkdir, open, rm, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { getLogger } from "../../config/logging.ts";
import { signatureHeaders, type SigningKey } from "../fediverse/http-signatures.ts";
import { type OutboundPolicy, OutboundRefused, safeFetch } from "../fediverse/safe-fetch.ts";
import { RemoteUnavailable } from "../errors.ts";

const log = getLogger(["polyphony", "library", "remote-audio"]);

/** A whole download may take this long (an idle connection fails much sooner: see `timeoutMs`). */
const DOWNLOAD_MAX_MS = 60 * 60_000;
const READ_CHUNK = 64 * 1024;
/** What a remote may send as audio. Funkwhale serves `application/octet-stream` from some storages. */
const AUDIO_TYPES = /^(audio\/|video\/(mp4|ogg|webm)|application\/(ogg|octet-stream|x-flac|flac))/i;

export interface FillRequest {
  uploadId: string;
  url: string;
  /** The size the Audio object announced: used when the remote sends no Content-Length. */
  announcedSize: number;
  /** More than this many bytes fails the download. */
  maxBytes: number;
  /** The listener's key: every hop of the GET is signed with it. */
  signer: SigningKey;
  policy: OutboundPolicy;
  /** First byte, and any silence between bytes, longer than this fails the download. */
  timeoutMs: number;
  /** Absolute path of the `.part` file (created here, never reused). */
  partPath: string;
  /** Keeps the complete `.part` file (moves it into the cache, records it); returns the cached relative path. */
  keep: (partPath: string, size: number) => Promise<string>;
  /** Called once, synchronously, when the download has ended either way (before its file is closed). */
  onEnd: () => void;
}

/** The remote's answer, once it started sending audio. */
export interface FillHead {
  /** Bytes the copy will have when complete. */
  size: number;
  contentType: string | null;
}

export type ByteRange = { start: number; end: number };

/** A hold on a fill's `.part` file: it stays open until every lease is released. */
export interface FillLease {
  readonly fill: AudioFill;
  /** The bytes of `range` as they arrive; fails if the download fails before they do. */
  read(range: ByteRange): Readable;
  release(): Promise<void>;
}

export class AudioFill {
  readonly request: FillRequest;
  /** Resolves when the remote answered with audio; rejects with RemoteUnavailable. */
  readonly started: Promise<FillHead>;
  /** Resolves with the cached copy's relative path; rejects when the copy could not be made whole. */
  readonly finished: Promise<string>;
  #handle: Promise<FileHandle>;
  #written = 0;
  #failure: Error | undefined;
  #ended = false;
  #leases = 0;
  #closed = false;
  #waiters = new Set<() => void>();

  constructor(request: FillRequest) {
    this.request = request;
    // "wx+": a new file we both write and read back; never someone else's.
    this.#handle = mkdir(path.dirname(request.partPath), { recursive: true }).then(() => open(request.partPath, "wx+"));
    let announce!: (head: FillHead) => void;
    let refuse!: (error: Error) => void;
    this.started = new Promise<FillHead>((resolve, reject) => {
      announce = resolve;
      refuse = reject;
    });
    this.finished = this.#run(announce, refuse);
    // Nobody may be waiting for these (a listener left); their failures are handled in #run.
    this.started.catch(() => {});
    this.finished.catch(() => {});
  }

  /** Holds the `.part` file open for a listener (taken synchronously, so it never finds it closed). */
  lease(): FillLease {
    if (this.#closed) throw new Error("lease of a download whose file is closed");
    this.#leases++;
    let released = false;
    return {
      fill: this,
      read: (range) => new ArrivingBytes(this, range),
      release: async () => {
        if (released) return;
        released = true;
        this.#leases--;
        await this.#closeWhenUnused();
      },
    };
  }

  /** Bytes written so far, once more than `position` are there; the final count when the copy ends before it. */
  async available(position: number, signal: AbortSignal): Promise<number> {
    for (;;) {
      if (this.#written > position) return this.#written;
      if (this.#failure) throw this.#failure;
      if (this.#ended) return this.#written;
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          signal.removeEventListener("abort", wake);
          resolve();
        };
        this.#waiters.add(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  }

  handle(): Promise<FileHandle> {
    return this.#handle;
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  async #run(announce: (head: FillHead) => void, refuse: (error: Error) => void): Promise<string> {
    const { request } = this;
    const url = new URL(request.url);
    const controller = new AbortController();
    let idle: NodeJS.Timeout | undefined;
    let keeping = false;
    const quiet = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        const seconds = request.timeoutMs / 1000;
        controller.abort(new OutboundRefused("timeout", request.url, `no bytes for ${seconds} s`));
      }, request.timeoutMs).unref();
    };
    try {
      const handle = await this.#handle;
      quiet();
      const response = await safeFetch(url, {
        policy: request.policy,
        // The bytes as stored, so they count against Content-Length (a gzipping proxy would break that).
        headers: { "accept-encoding": "identity" },
        // Funkwhale's listen endpoint negotiates nothing else; the signature is what it checks.
        hopHeaders: (method, hop) => signatureHeaders(method, hop, request.signer),
        maxBytes: request.maxBytes,
        connectTimeoutMs: Math.min(5_000, request.timeoutMs),
        timeoutMs: DOWNLOAD_MAX_MS,
        signal: controller.signal,
      });
      const contentType = response.headers.get("content-type");
      if (response.status !== 200) {
        await response.body?.cancel();
        throw refusedStatus(url, response.status);
      }
      if (contentType && !AUDIO_TYPES.test(contentType)) {
        await response.body?.cancel();
        throw new RemoteUnavailable("refused", `${serverOf(url)} answered with ${contentType.split(";")[0]} instead of audio`);
      }
      const length = Number(response.headers.get("content-length") ?? Number.NaN);
      const size = Number.isSafeInteger(length) ? length : request.announcedSize;
      announce({ size, contentType });
      const body = response.body?.getReader();
      for (;;) {
        const chunk = body ? await body.read() : { done: true as const, value: undefined };
        if (chunk.done) break;
        quiet();
        if (this.#written + chunk.value.byteLength > size) throw new RemoteUnavailable("refused", `${serverOf(url)} sent more than the ${size} bytes it announced`);
        await handle.write(chunk.value, 0, chunk.value.byteLength, this.#written);
        this.#written += chunk.value.byteLength;
        this.#wake();
      }
      if (this.#written !== size) throw new RemoteUnavailable("refused", `${serverOf(url)} sent ${this.#written} of the ${size} bytes it announced`);
      clearTimeout(idle);
      keeping = true;
      const cached = await request.keep(request.partPath, size);
      this.#end();
      return cached;
    } catch (error) {
      clearTimeout(idle);
      // Every byte arrived and was read: only the bookkeeping failed (the upload was deleted meanwhile).
      const failure = keeping ? (error as Error) : asUnavailable(error, url, request.timeoutMs);
      this.#failure = failure;
      refuse(failure); // no-op once started
      this.#wake(); // listeners waiting for bytes fail now
      await rm(request.partPath, { force: true });
      this.#end();
      log.warning("Fetching the audio of remote upload {uploadId} from {url} failed after {bytes} bytes: {reason}", {
        uploadId: request.uploadId,
        url: request.url,
        bytes: this.#written,
        reason: failure.message,
      });
      throw failure;
    }
  }

  #end(): void {
    this.#ended = true;
    this.request.onEnd();
    this.#wake();
    void this.#closeWhenUnused();
  }

  async #closeWhenUnused(): Promise<void> {
    if (!this.#ended || this.#leases > 0 || this.#closed) return;
    this.#closed = true;
    await (await this.#handle.catch(() => null))?.close().catch(() => {});
  }
}

/** The bytes of one range of a fill, read from its `.part` file as they are written. */
class ArrivingBytes extends Readable {
  readonly #fill: AudioFill;
  #position: number;
  readonly #end: number;
  #reading = false;
  #wanted = false;
  readonly #abort = new AbortController();

  constructor(fill: AudioFill, range: ByteRange) {
    super({ highWaterMark: READ_CHUNK });
    this.#fill = fill;
    this.#position = range.start;
    this.#end = range.end;
  }

  override _read(): void {
    if (this.#reading) {
      this.#wanted = true; // asked again while reading: read on once this pass ends
      return;
    }
    this.#reading = true;
    this.#pump().then(
      () => {
        this.#reading = false;
        if (this.#wanted) {
          this.#wanted = false;
          this._read();
        }
      },
      (error: unknown) => {
        this.#reading = false;
        if (!this.destroyed) this.destroy(error as Error);
      },
    );
  }

  async #pump(): Promise<void> {
    for (;;) {
      if (this.destroyed) return;
      if (this.#position > this.#end) {
        this.push(null);
        return;
      }
      const available = await this.#fill.available(this.#position, this.#abort.signal);
      if (available <= this.#position) throw new Error(`the copy ended at byte ${available}, before byte ${this.#position}`);
      const length = Math.min(READ_CHUNK, this.#end + 1 - this.#position, available - this.#position);
      const chunk = Buffer.allocUnsafe(length);
      const { bytesRead } = await (await this.#fill.handle()).read(chunk, 0, length, this.#position);
      if (bytesRead === 0) throw new Error(`nothing to read at byte ${this.#position}`);
      this.#position += bytesRead;
      if (!this.push(chunk.subarray(0, bytesRead))) return;
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#abort.abort();
    callback(error);
  }
}

function serverOf(url: URL): string {
  return `The server holding this track (${url.host})`;
}

function refusedStatus(url: URL, status: number): RemoteUnavailable {
  if (status === 401 || status === 403 || status === 404 || status === 410) {
    return new RemoteUnavailable("refused", `${serverOf(url)} refused to send it (HTTP ${status}); it may no longer share this library with you`);
  }
  return new RemoteUnavailable("refused", `${serverOf(url)} answered HTTP ${status} instead of the audio; try again later`);
}

/** Any failure of a download as what the listener is told. */
export function asUnavailable(error: unknown, url: URL, timeoutMs: number): RemoteUnavailable {
  if (error instanceof RemoteUnavailable) return error;
  if (error instanceof OutboundRefused) {
    if (error.reason === "timeout") return new RemoteUnavailable("timeout", `${serverOf(url)} did not answer within ${timeoutMs / 1000} seconds; try again later`);
    if (error.reason === "unreachable") return new RemoteUnavailable("unreachable", `${serverOf(url)} cannot be reached (${error.detail}); try again later`);
    if (error.reason === "too-large") return new RemoteUnavailable("refused", `${serverOf(url)} sent more audio than the track announced`);
    return new RemoteUnavailable("refused", `${serverOf(url)} cannot be fetched from here (${error.reason}: ${error.detail})`);
  }
  return new RemoteUnavailable("refused", `${serverOf(url)} did not send the whole file (${error instanceof Error ? error.message : String(error)})`);
}
