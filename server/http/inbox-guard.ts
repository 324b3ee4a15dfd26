import express, { Router, type RequestHandler } from "express";
import { INBOX_PATH, SHARED_INBOX_PATH } from "../../core/accounts/actor-urls.ts";
import { Invalid, NotFound, Unauthenticated } from "../../core/errors.ts";
import { type DomainPolicy, refusedError } from "../../core/moderation/domain-policy.ts";

/**
 * Refuses, before Fedify, inbox POSTs that can only be a client's mistake: a compressed or undecodable
 * body, one that is not a JSON object naming its actor, an unsigned one, or one addressed to an actor
 * we do not have. An activity whose actor is on a server we do not federate with is refused (403) here
 * too, and one to a person (or their library) from an actor they blocked is dropped with a 202.
 * Fedify answers those too, but logs each at error level, where a stranger's typo should not page anyone.
 * The body is read whole here (bounded) and handed to Fedify byte for byte, so signatures still verify.
 */
export function inboxGuard(deps: {
  limitBytes: number;
  isLocalActor: (identifier: string) => Promise<boolean>;
  policy: DomainPolicy;
  /** Whether the person behind local actor `identifier` blocked actor `actorFid`. */
  isBlockedBy: (identifier: string, actorFid: string) => Promise<boolean>;
}): Router {
  const router = Router();
  // inflate: false makes any Content-Encoding a 415: a signed Digest covers the bytes as sent.
  const body = express.raw({ type: () => true, inflate: false, limit: deps.limitBytes });
  const checkActivity: RequestHandler = async (req, res, next) => {
    const checked = parseActivity(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    if (typeof checked === "string") return next(new Invalid(checked, undefined, "invalid_activity"));
    const { activity, actorId } = checked;
    // Fedify's ways to authenticate: HTTP Signatures (draft-cavage or RFC 9421), a Linked Data Signature or an
    // Object Integrity Proof in the body. With none of them, it can only refuse.
    const signed = req.get("signature") || req.get("signature-input") || "signature" in activity || "proof" in activity;
    if (!signed) return next(new Unauthenticated("The activity is not signed"));
    const refusal = await deps.policy.refusalOfUrl(actorId);
    if (refusal) return next(refusedError(refusal, new URL(actorId).host));
    res.locals.activityActor = actorId;
    next();
  };
  router.post(SHARED_INBOX_PATH, body, checkActivity);
  router.post(INBOX_PATH.replace("{identifier}", ":identifier"), body, checkActivity, async (req, res, next) => {
    const identifier = String(req.params.identifier);
    if (!(await deps.isLocalActor(identifier))) return next(new NotFound("actor"));
    // Not told it is blocked: the answer is the one any delivery gets.
    if (await deps.isBlockedBy(identifier, res.locals.activityActor as string)) return void res.status(202).end();
    next();
  });
  return router;
}

/** The activity as a JSON object, with its actor's id, or what is wrong with it. */
function parseActivity(bytes: Buffer): { activity: Record<string, unknown>; actorId: string } | string {
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
  return { activity: activity as Record<string, unknown>, actorId };
}
