import type { Request, RequestHandler } from "express";
import { getLogger } from "../../config/logging.ts";
import { parseSignatureHeader } from "../../core/fediverse/http-signatures.ts";
import { type DomainPolicy, refusedError } from "../../core/moderation/domain-policy.ts";

const log = getLogger(["polyphony", "moderation", "inbound"]);

/** The key id a request's signature names: draft-cavage `Signature`, or RFC 9421 `Signature-Input`. */
function keyIdOf(req: Request): string | null {
  const cavage = parseSignatureHeader(req.get("signature") ?? "")?.keyId;
  if (cavage) return cavage;
  return /keyid="([^"]+)"/i.exec(req.get("signature-input") ?? "")?.[1] ?? null;
}

/**
 * Refuses any signed request (inbox POSTs, signed GETs of our documents and media, Fedify's actor
 * documents) from a server we do not federate with, by the host of the key that signed it, before
 * anything verifies or reads it. The key id is not verified here: a forger naming a blocked server only
 * gets itself refused. Unsigned requests go on (public documents answer anyone; inboxes refuse them).
 */
export function federationGate(policy: DomainPolicy): RequestHandler {
  return async (req, _res, next) => {
    const keyId = keyIdOf(req);
    // A key id that is no URL names no server: the signature's verifier refuses it (401).
    if (!keyId || !URL.canParse(keyId)) return next();
    const host = new URL(keyId).host;
    const refusal = await policy.refusal(host);
    if (!refusal) return next();
    log.info("Refused a signed {method} of {path} from {host}: {refusal}", { method: req.method, path: req.path, host, refusal });
    next(refusedError(refusal, host));
  };
}
