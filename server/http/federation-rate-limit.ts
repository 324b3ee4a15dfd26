import type { RequestHandler } from "express";
import { getLogger } from "../../config/logging.ts";
import { parseSignatureHeader } from "../../core/fediverse/http-signatures.ts";
import type { RateLimiter } from "../../core/rate-limit/rate-limiter.ts";

const log = getLogger(["polyphony", "federation", "inbound"]);

/** What other servers reach: inboxes, actors, federated documents and media, WebFinger. */
const FEDERATION_PATHS = /^\/(inbox$|actors\/|federation\/|\.well-known\/webfinger)/;

/**
 * Per-remote-domain budgets on inbound federation requests. The domain is the one a request's signature
 * claims (its key id's host; verified later, by whoever answers), counted together with the address it
 * came from: a forger naming someone else's domain spends only its own budget. Unsigned requests count
 * by address alone.
 */
export function federationRateLimit(limiter: RateLimiter): RequestHandler {
  return async (req, _res, next) => {
    if (!FEDERATION_PATHS.test(req.path)) return next();
    const keyId = parseSignatureHeader(req.get("signature") ?? "")?.keyId;
    const domain = keyId && URL.canParse(keyId) ? new URL(keyId).host : "unsigned";
    try {
      await limiter.consume(`fed:${domain}:${req.ip}`);
      next();
    } catch (error) {
      log.warn("Refused a federation request from {domain} ({ip}): rate limit", { domain, ip: req.ip, path: req.path });
      next(error);
    }
  };
}
