import type { ErrorRequestHandler, RequestHandler } from "express";
import { z } from "zod";
import { getLogger } from "../../config/logging.ts";
import { isBadValueError } from "../../core/db/bad-value.ts";
import { clientWentAway, goneReason } from "./client-gone.ts";
import { remoteErrorResponse } from "./remote-errors.ts";
import {
  Conflict,
  DomainError,
  Forbidden,
  Invalid,
  NotFound,
  RateLimited,
  RemoteUnavailable,
  TooLarge,
  Unauthenticated,
} from "../../core/errors.ts";

const log = getLogger(["polyphony", "http"]);

/** The REST API's single error shape. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Another server's failure, as a gateway says it: it answered wrongly, cannot be reached, or took too long. */
const REMOTE_STATUS = { refused: 502, unreachable: 503, timeout: 504 } as const;

function statusOf(error: DomainError): number {
  if (error instanceof NotFound) return 404;
  if (error instanceof Unauthenticated) return 401;
  if (error instanceof Forbidden) return 403;
  if (error instanceof Conflict) return 409;
  if (error instanceof RateLimited) return 429;
  if (error instanceof TooLarge) return 413;
  if (error instanceof Invalid) return 400;
  if (error instanceof RemoteUnavailable) return REMOTE_STATUS[error.kind];
  return 400;
}

const badRequest = (code: string, message: string) => ({ status: 400, body: { error: { code, message } } });

/**
 * Errors thrown by body-parser (and Express's router) are http-errors: a `status`, `expose` when the
 * client caused them, and for body-parser a `type`.
 */
function clientHttpError(error: unknown): { status: number; body: ErrorBody } | undefined {
  const { type, status, expose, code } = (error ?? {}) as { type?: unknown; status?: unknown; expose?: unknown; code?: unknown };
  if (type === "entity.parse.failed") {
    return { status: 400, body: { error: { code: "malformed_json", message: "The request body is not valid JSON" } } };
  }
  if (type === "entity.too.large") {
    const limit = (error as { limit?: number }).limit;
    return {
      status: 413,
      body: { error: { code: "payload_too_large", message: `The request body is larger than ${limit} bytes` } },
    };
  }
  if (type === "encoding.unsupported" || type === "charset.unsupported") {
    return { status: 415, body: { error: { code: "unsupported_encoding", message: "Unsupported body encoding" } } };
  }
  if (typeof code === "string" && code.startsWith("Z_")) {
    return badRequest("malformed_body", "The request body does not decode with its Content-Encoding");
  }
  if (error instanceof URIError) return badRequest("malformed_url", "The URL is not valid percent-encoding");
  if (typeof status === "number" && status >= 400 && status < 500 && expose === true) {
    return { status, body: { error: { code: "bad_request", message: (error as Error).message } } };
  }
  return undefined;
}

export function toErrorResponse(error: unknown): { status: number; body: ErrorBody; headers?: Record<string, string> } {
  if (error instanceof DomainError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error.details !== undefined) body.error.details = error.details;
    const headers = error instanceof RateLimited ? { "Retry-After": String(error.retryAfterSeconds) } : undefined;
    return { status: statusOf(error), body, headers };
  }
  if (error instanceof z.ZodError) {
    const details = error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    return { status: 400, body: { error: { code: "invalid", message: "The request is invalid", details } } };
  }
  const remote = remoteErrorResponse(error);
  if (remote) return remote;
  if (isBadValueError(error)) {
    return badRequest("invalid", "The request holds a value the server cannot take (a number out of range, or a character text cannot hold)");
  }
  return (
    clientHttpError(error) ?? {
      status: 500,
      body: { error: { code: "internal_error", message: "Something went wrong on the server" } },
    }
  );
}

export const errorHandler: ErrorRequestHandler = (error, req, res, _next) => {
  if (clientWentAway(error, req)) {
    log.debug("Client went away during {method} {path} ({reason})", { method: req.method, path: req.path, reason: goneReason(error) });
    return;
  }
  if (res.headersSent) {
    // Too late for an error answer: cutting the connection tells the client the body is incomplete.
    log.error("Error after the answer started on {method} {path}: {error}", { method: req.method, path: req.path, error });
    res.destroy();
    return;
  }
  const { status, body, headers } = toErrorResponse(error);
  // Another server's failure is logged where it happened (safeFetch, core/library/remote-audio-fill.ts): not our bug.
  if (error instanceof RemoteUnavailable) log.info("{method} {path} answered {status}: {message}", { method: req.method, path: req.path, status, message: error.message });
  else if (status >= 500 && !remoteErrorResponse(error)) log.error("Unhandled error on {method} {path}: {error}", { method: req.method, path: req.path, error });
  // The safety net caught what the edge should have refused: worth a look, not a page.
  else if (isBadValueError(error)) log.warning("Bad input reached the database on {method} {path}: {error}", { method: req.method, path: req.path, error });
  res.status(status).set(headers ?? {}).json(body);
};

export const apiNotFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: "not_found", message: `No route for ${req.method} ${req.path}` } });
};
