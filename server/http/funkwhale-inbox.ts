import { Router, type RequestHandler } from "express";
import { getLogger } from "../../config/logging.ts";
import { INBOX_PATH, SHARED_INBOX_PATH } from "../../core/accounts/actor-urls.ts";
import type { TransactionSource } from "../../core/db/transaction.ts";
import { Unauthenticated } from "../../core/errors.ts";
import { funkwhaleActivityOf, queueFunkwhaleActivity } from "../../core/fediverse/funkwhale-activities.ts";
import { digestMatches, parseSignatureHeader } from "../../core/fediverse/http-signatures.ts";
import type { RemoteActors } from "../../core/fediverse/remote-actors.ts";

const log = getLogger(["polyphony", "fediverse", "funkwhale-inbox"]);

/**
 * Funkwhale's library activities, taken before Fedify's inbox (which drops them: funkwhale-federation.md
 * §8 items 2-4) from the raw JSON the inbox guard has read and checked. The draft-cavage signature is
 * checked here, with a Digest that must be signed and match the body, and its signer must be the
 * activity's actor; the work is a job (answer 202 at once, fetch nothing here). Anything else, and any
 * activity signed some other way than draft-cavage, goes on to Fedify unchanged.
 */
export function funkwhaleInbox(deps: { db: TransactionSource; remoteActors: RemoteActors; publicUrl: URL }): Router {
  const router = Router();
  const handle: RequestHandler = async (req, res, next) => {
    const body = Buffer.isBuffer(req.body) ? req.body : null;
    const signature = req.get("signature");
    if (!body || !signature) return next();
    const raw = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
    const activity = funkwhaleActivityOf(raw);
    if (!activity) return next();

    const signed = (parseSignatureHeader(signature)?.headers ?? "").toLowerCase().split(/\s+/);
    if (!signed.includes("digest") || !digestMatches(req.get("digest"), body)) {
      throw new Unauthenticated("Invalid HTTP signature: the body's Digest is missing, unsigned or wrong");
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    // The Host header as sent (as Fedify checks it); the path as the sender addressed it.
    const verified = await deps.remoteActors.verify({ method: req.method, url: new URL(req.originalUrl, deps.publicUrl), headers });
    if (!verified.ok) throw new Unauthenticated(`Invalid HTTP signature: ${verified.reason}`);
    if (verified.actorFid !== activity.actor) {
      log.warning("{type} by {actor} signed by {signer}: refused", { type: raw.type, actor: activity.actor, signer: verified.actorFid });
      throw new Unauthenticated("The activity's actor is not its signer");
    }
    const id = typeof raw.id === "string" ? raw.id : null;
    const queued = await queueFunkwhaleActivity(deps.db, activity, { id, json: raw });
    log.debug("{kind} from {actor}: {outcome}", { kind: activity.kind, actor: activity.actor, outcome: queued ? "queued" : "seen already" });
    res.status(202).end();
  };
  router.post(SHARED_INBOX_PATH, handle);
  router.post(INBOX_PATH.replace("{identifier}", ":identifier"), handle);
  return router;
}
