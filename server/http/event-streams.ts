import type { Request, Response } from "express";
import { RateLimited } from "../../core/errors.ts";

/** Browsers open one stream per tab; a few more than anyone needs, few enough to bound memory. */
export const MAX_STREAMS_PER_USER = 10;
/** Comment lines keep proxies and load balancers from closing an idle stream. */
export const PING_INTERVAL_MS = 25_000;
/**
 * A stream is authorised once, when it opens; ending it after this long makes the browser reconnect
 * (EventSource does, after `retry`) through authentication again, so a logged-out session, a revoked
 * token or a disabled account stops receiving events within this bound.
 */
export const MAX_STREAM_MS = 5 * 60_000;
/**
 * A client holding this many bytes of ours unread has stopped reading (a frozen tab, a hostile client):
 * its stream is dropped rather than kept growing in memory; EventSource reconnects when it wakes up.
 */
export const MAX_UNREAD_BYTES = 1024 * 1024;

/** 429: the account already holds the most streams one may. */
export class TooManyStreams extends RateLimited {
  constructor() {
    super(30, `At most ${MAX_STREAMS_PER_USER} live event streams per account; close another tab`, "too_many_streams");
  }
}

/**
 * The server-sent event streams of this process, by user. `send` writes to every open stream of one
 * user; streams are forgotten when their client goes away, and all are ended by `close()` at shutdown
 * (an open stream would otherwise hold the HTTP server's drain until the shutdown timeout).
 */
export class EventStreams {
  readonly #byUser = new Map<string, Set<Response>>();
  readonly #pingTimer: NodeJS.Timeout;
  #closed = false;

  readonly #maxStreamMs: number;

  constructor(pingIntervalMs = PING_INTERVAL_MS, maxStreamMs = MAX_STREAM_MS) {
    this.#maxStreamMs = maxStreamMs;
    this.#pingTimer = setInterval(() => this.#writeAll(": ping\n\n"), pingIntervalMs);
    this.#pingTimer.unref();
  }

  /** Starts the stream on `res` (status, headers, a first comment); throws TooManyStreams past the bound. */
  open(userId: string, req: Request, res: Response): void {
    const streams = this.#byUser.get(userId) ?? new Set<Response>();
    if (streams.size >= MAX_STREAMS_PER_USER) throw new TooManyStreams();
    res.status(200).set({
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache",
      "X-Accel-Buffering": "no",
    });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    // A retry hint for EventSource, and bytes the client can see at once.
    res.write("retry: 3000\n: connected\n\n");
    // Shutting down: the client reconnects after `retry`, to another process behind the proxy.
    if (this.#closed) return void res.end();
    streams.add(res);
    this.#byUser.set(userId, streams);
    const forget = () => {
      clearTimeout(expiry);
      streams.delete(res);
      if (streams.size === 0 && this.#byUser.get(userId) === streams) this.#byUser.delete(userId);
    };
    // Forgotten as it ends: a client that is not reading keeps an ended stream open for a while, and a
    // write after the end would throw from the response with nobody to catch it.
    const expiry = setTimeout(() => {
      forget();
      res.end();
    }, this.#maxStreamMs);
    expiry.unref();
    res.on("close", forget);
    if (req.socket.destroyed) forget();
  }

  send(userId: string, event: string, data: unknown): void {
    const streams = this.#byUser.get(userId);
    if (!streams) return;
    const message = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of streams) write(res, message);
  }

  /** Writes to every open stream (of everyone signed in here). */
  broadcast(event: string, data: unknown): void {
    const message = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    this.#writeAll(message);
  }

  /** Open streams of one user (the relay skips work for users with none). */
  count(userId: string): number {
    return this.#byUser.get(userId)?.size ?? 0;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#pingTimer);
    for (const streams of this.#byUser.values()) for (const res of streams) res.end();
    this.#byUser.clear();
  }

  #writeAll(chunk: string): void {
    for (const streams of this.#byUser.values()) for (const res of streams) write(res, chunk);
  }
}

/** Writes to an open stream, or drops it (its 'close' then forgets it) when its client stopped reading. */
function write(res: Response, chunk: string): void {
  if (res.writableLength > MAX_UNREAD_BYTES) res.destroy();
  else res.write(chunk);
}
