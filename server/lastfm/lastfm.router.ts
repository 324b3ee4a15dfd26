import express, { Router, type ErrorRequestHandler, type Request, type Response } from "express";
import { getLogger } from "../../config/logging.ts";
import { NotFound, RateLimited } from "../../core/errors.ts";
import type { LastfmAppsService } from "../../core/lastfm/lastfm-apps.service.ts";
import { LASTFM_ERRORS, LastfmError } from "../../core/lastfm/lastfm-error.ts";
import { apiSignature, sameMd5 } from "../../core/lastfm/signature.ts";
import type { RateLimiter } from "../../core/rate-limit/rate-limiter.ts";
import { lastfmMethods, type LastfmMethodDeps } from "./lastfm-methods.ts";
import { replyFormat, sendError, sendOk } from "./lfm-response.ts";

const log = getLogger(["polyphony", "lastfm"]);

export interface LastfmRouterDeps extends LastfmMethodDeps {
  apps: LastfmAppsService;
  /** Requests per client address (error 29 past it). */
  limiter: RateLimiter;
}

/**
 * Last.fm's web service at `/2.0/`: GET or form POST with a `method` parameter, XML unless
 * `format=json`. Checks run in Last.fm's order: rate limit, method, API key, signature, HTTP verb,
 * session key; every failure is `<lfm status="failed"><error code="N">`.
 */
export function lastfmRouter(deps: LastfmRouterDeps): Router {
  const router = Router();
  const methods = lastfmMethods(deps);
  // extended: false keeps `artist[0]` a parameter name, as Last.fm reads it (no nested objects). Only
  // here: this router sits at the root, where Fedify needs request bodies unread.
  const form = express.urlencoded({ extended: false, limit: "256kb", parameterLimit: 1000 });
  router.all(["/2.0", "/2.0/"], form, async (req, res) => {
    const { params, repeated } = collectParams(req);
    const how = replyFormat(params);
    try {
      await deps.limiter.consume(`lastfm:${req.ip ?? "unknown"}`);
      if (repeated) throw new LastfmError(LASTFM_ERRORS.INVALID_PARAMETERS, `Invalid parameters - ${repeated} is given twice or holds U+0000`);
      if (!params.method) throw new LastfmError(LASTFM_ERRORS.INVALID_PARAMETERS, "Invalid parameters - Your request is missing the required parameter method");
      const spec = methods[params.method.toLowerCase()];
      if (!spec) throw new LastfmError(LASTFM_ERRORS.INVALID_METHOD, "Invalid Method - No method with that name in this package");
      const app = params.api_key ? await deps.apps.byApiKey(params.api_key) : null;
      if (!app) throw new LastfmError(LASTFM_ERRORS.INVALID_API_KEY, "Invalid API key - You must be granted a valid key by last.fm");
      if (spec.signed && !(params.api_sig && sameMd5(params.api_sig, apiSignature(params, app.secret)))) {
        throw new LastfmError(LASTFM_ERRORS.INVALID_SIGNATURE, "Invalid method signature supplied");
      }
      if (spec.post && req.method !== "POST") throw new LastfmError(LASTFM_ERRORS.INVALID_METHOD, "Invalid Method - This method must be called with POST");
      const user = params.sk ? await deps.auth.userBySessionKey(app.id, params.sk) : null;
      if ((spec.session || params.sk) && !user) throw new LastfmError(LASTFM_ERRORS.INVALID_SESSION_KEY, "Invalid session key - Please re-authenticate");
      sendOk(res, how, await spec.run({ params, app, user, clientIp: req.ip ?? "unknown" }));
    } catch (error) {
      failed(res, how, error);
    }
  });
  // A body that does not parse (or is too large) still answers in Last.fm's shape.
  const badBody: ErrorRequestHandler = (_error, req, res, _next) => {
    sendError(res, replyFormat(req.query as Record<string, string>), LASTFM_ERRORS.INVALID_PARAMETERS, "Invalid parameters - The request body cannot be read");
  };
  router.use(["/2.0", "/2.0/"], badBody);
  return router;
}

/**
 * Last.fm sends people to `<site>/api/auth/?api_key=…&token=…` to approve a token; clients that derive
 * that address from the API root come here, and go on to the web UI's approval page.
 */
export function lastfmAuthRedirect(): Router {
  const router = Router();
  router.get(["/api/auth", "/api/auth/"], (req, res) => {
    const query = new URLSearchParams();
    for (const name of ["api_key", "token"]) if (typeof req.query[name] === "string") query.set(name, req.query[name]);
    res.redirect(302, `/lastfm/auth?${query}`);
  });
  return router;
}

/** Query and form body together (the body wins, as Last.fm reads POSTs); names given twice or holding U+0000 are refused. */
function collectParams(req: Request): { params: Record<string, string>; repeated: string | null } {
  const params: Record<string, string> = {};
  let repeated: string | null = null;
  const body = (req.body && typeof req.body === "object" ? req.body : {}) as Record<string, unknown>;
  for (const source of [req.query as Record<string, unknown>, body]) {
    for (const [name, value] of Object.entries(source)) {
      // U+0000 cannot go into a text column: refused as a bad parameter, as a name given twice.
      if (typeof value === "string" && !value.includes("\u0000")) params[name] = value;
      else repeated ??= name;
    }
  }
  return { params, repeated };
}

function failed(res: Response, how: ReturnType<typeof replyFormat>, error: unknown): void {
  if (error instanceof LastfmError) return sendError(res, how, error.code, error.message);
  if (error instanceof RateLimited) {
    res.set("Retry-After", String(error.retryAfterSeconds));
    return sendError(res, how, LASTFM_ERRORS.RATE_LIMITED, "Rate Limit Exceeded - Your IP has made too many requests in a short period");
  }
  if (error instanceof NotFound) return sendError(res, how, LASTFM_ERRORS.INVALID_PARAMETERS, error.message);
  log.error("Last.fm request failed: {error}", { error });
  sendError(res, how, LASTFM_ERRORS.OPERATION_FAILED, "Operation failed - Most likely the backend service failed. Please try again.");
}
