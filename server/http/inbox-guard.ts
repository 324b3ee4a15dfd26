import express, { Router, type RequestHandler } from "express";
import { INBOX_PATH, SHARED_INBOX_PATH } from "../../core/accounts/actor-urls.ts";
import { Invalid, NotFound, Unauthenticated } from "../../core/errors.ts";

/**
 * Refuses, before Fedify, inbox POSTs that can only be a client's mistake: a compressed or undecodable
 * body, one that is not a JSON object naming its actor, an unsigned one, or one addressed to an actor
 * we do not have.
 * Fedify answers those too, but logs each at error level, where a stranger's typo should not page anyone.
 * The body is read whole here (bounded) and handed to Fedify byte for byte, so signatures still verify.
 */
export function inboxGuard(deps: { limitBytes: number; isLocalActor: (identifier: string) => Promise<boolean> }): Router {
  const router = Router();
  // inflate: false makes any Content-Encoding a 415: a signed Digest covers the bytes as sent.
  const body = express.raw({ type: () => true, inflate: false, limit: deps.limitBytes });
  const checkActivity: RequestHandler = (req, _res, next) => {
    const checked = parseActivity(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    if (typeof checked === "string") return next(new Invalid(checked, undefined, "invalid_activity"));
    // Fedify's ways to authenticate: HTTP Signatures (draft-cavage or RFC 9421), a Linked Data Signature or an
    // Object Integrity Proof in the body. With none of them, it can only refuse.
    const signed = req.get("signature") || req.get("signature-input") || "signature" in checked || "proof" in checked;
    next(signed ? undefined : new Unauthenticated("The activity is not signed"));
  };
  router.post(SHARED_INBOX_PATH, body, checkActivity);
  router.post(INBOX_PATH.replace("{identifier}", ":identifier"), body, checkActivity, async (req, _res, next) => {
    next((await deps.isLocalActor(String(req.params.identifier))) ? undefined : new NotFound("actor"));
  });
  return router;
}

/** The activity as a JSON object naming its actor, or what is wrong with it. */
function parseActivity(bytes: Buffer): Record<string, unknown> | string {
  let activity: unknown;
  try {
    activity = JSON.parse(bytes.toString("utf8"));
  } catch {
    return "The activity is not valid JSON";
  }
  if (typeof activity !== "object" || activity === null || Array.isArray(activity)) return "The activity must be a JSON object";
  const actors = (activity as { actor?: unknown }).actor;
  const actor = Array.isArray(actors) ? actors[0] : actors;
  const actorId = typeof actor === "object" && actor !== null ? (actor as { id?: unknown }).id : actor;
  if (typeof actorId !== "string" || !URL.canParse(actorId)) return "The activity must name its actor by URL";
  return activity as Record<string, unknown>;
}
