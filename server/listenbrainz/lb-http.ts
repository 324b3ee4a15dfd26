import type { ErrorRequestHandler, Request, RequestHandler, Response } from "express";
import { getLogger } from "../../config/logging.ts";
import type { Listener, ListenAccessService } from "../../core/listens/listen-access.service.ts";
import type { RateLimiter } from "../../core/rate-limit/rate-limiter.ts";
import { toErrorResponse } from "../http/errors.ts";
import { clientWentAway } from "../http/client-gone.ts";

const log = getLogger(["polyphony", "listenbrainz"]);

/** An error answered as ListenBrainz words it: `{"code": <status>, "error": "<message>"}`. */
export class LbError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export const lbNotFoundUser = (name: string) => new LbError(404, `Cannot find user: ${name}`);

declare module "express-serve-static-core" {
  interface Locals {
    /** The owner of the `Authorization: Token` listen token, when one was sent and is valid. */
    listener?: Listener;
  }
}

/** The token of `Authorization: Token <token>` (any case of "Token"), else undefined. */
export function listenToken(req: Request): string | undefined {
  const [scheme, token, ...rest] = (req.get("authorization") ?? "").trim().split(/\s+/);
  return scheme?.toLowerCase() === "token" && token && !rest.length ? token : undefined;
}

/** Resolves a listen token, if one is sent; a wrong one is answered when a route needs it (requireListener). */
export function resolveListener(access: ListenAccessService): RequestHandler {
  return async (req, res, next) => {
    const token = listenToken(req);
    const listener = token ? await access.authenticate(token) : null;
    if (listener) res.locals.listener = listener;
    next();
  };
}

/** The token's owner, or ListenBrainz's 401s. */
export function requireListener(req: Request, res: Response): Listener {
  if (!req.get("authorization")) throw new LbError(401, "You need to provide an Authorization header.");
  if (!res.locals.listener) throw new LbError(401, "Invalid authorization token.");
  return res.locals.listener;
}

/** Who reads: the listen token's owner, else the signed-in user of the session or API token, else nobody. */
export const viewerId = (res: Response): string | null => res.locals.listener?.id ?? res.locals.auth?.user.id ?? null;

export interface LbRateLimits {
  /** Requests per window with a valid token (ListenBrainz gives those more). */
  perUser: RateLimiter;
  perAddress: RateLimiter;
  max: { user: number; address: number };
}

/**
 * ListenBrainz's rate limiting: a budget per window per token owner (else per address), with its
 * headers on every answer (X-RateLimit-Limit, -Remaining, -Reset-In, -Reset) and a 429 past the budget.
 */
export function lbRateLimit(limits: LbRateLimits): RequestHandler {
  return async (req, res, next) => {
    const user = res.locals.listener?.id;
    const limiter = user ? limits.perUser : limits.perAddress;
    const max = user ? limits.max.user : limits.max.address;
    const { hits, retryAfter } = await limiter.record(user ? `lb:user:${user}` : `lb:ip:${req.ip}`);
    res.set({
      "X-RateLimit-Limit": String(max),
      "X-RateLimit-Remaining": String(Math.max(0, max - hits)),
      "X-RateLimit-Reset-In": String(retryAfter),
      "X-RateLimit-Reset": String(Math.floor(Date.now() / 1000) + retryAfter),
    });
    if (hits > max) throw new LbError(429, `Too many requests: wait ${retryAfter} seconds before the next one.`);
    next();
  };
}

/** Every error under /1/ in ListenBrainz's shape, with the status our own errors would have had. */
export const lbErrorHandler: ErrorRequestHandler = (error, req, res, _next) => {
  if (clientWentAway(error, req)) return;
  if (error instanceof LbError) {
    res.status(error.status).json({ code: error.status, error: error.message });
    return;
  }
  const { status, body, headers } = toErrorResponse(error);
  if (status >= 500) log.error("ListenBrainz API {method} {path} failed: {error}", { method: req.method, path: req.path, error });
  if (headers) res.set(headers);
  res.status(status).json({ code: status, error: body.error.message });
};

/** Unknown paths under /1/, as ListenBrainz answers them. */
export const lbNotFound: RequestHandler = () => {
  throw new LbError(404, "The requested URL was not found on the server.");
};
