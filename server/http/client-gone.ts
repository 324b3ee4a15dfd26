import type { Request } from "express";

/** The client closed or reset the connection before the request body was complete. */
export class RequestAborted extends Error {
  override name = "RequestAborted";
  readonly code = "ECONNABORTED";
  constructor() {
    super("The client went away before the request body was complete");
  }
}

/** Error codes a stream fails with when the other end of the connection is gone. */
const CONNECTION_GONE = new Set(["ERR_STREAM_PREMATURE_CLOSE", "ERR_STREAM_DESTROYED", "ECONNRESET", "EPIPE", "ECONNABORTED"]);

/**
 * True when `error` only means the listener or uploader went away (closed the tab, skipped the track,
 * cancelled an upload): routine, logged at debug without a stack. The same codes from a connection of
 * our own (a remote fetch) while the client is still there are real errors.
 */
export function clientWentAway(error: unknown, req: Request): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && CONNECTION_GONE.has(code) && req.socket.destroyed;
}

/** A short reason for the debug line: the code, never the stack. */
export function goneReason(error: unknown): string {
  return String((error as { code?: unknown } | undefined)?.code ?? (error as Error | undefined)?.message ?? error);
}
