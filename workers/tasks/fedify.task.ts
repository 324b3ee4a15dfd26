import type { Federation, Message } from "@fedify/fedify";
import type { Task } from "graphile-worker";
import { getLogger } from "../../config/logging.ts";
import type { DomainPolicy, Refusal } from "../../core/moderation/domain-policy.ts";

const log = getLogger(["polyphony", "moderation", "delivery"]);

/**
 * Runs one of Fedify's queued messages (outbox delivery, inbox processing, fan-out). Every delivery of
 * ours, whoever queued it (follow flow, library publications, anything later), is one `outbox` message
 * per inbox: a delivery to a server we do not federate with (blocked, or off the allow-list) is dropped
 * here, when it would go out, so a block also stops what was queued before it; so is an activity from
 * such a server received before the block and still waiting in the queue.
 */
export function fedifyTask(federation: Federation<void>, policy: DomainPolicy): Task {
  return async (payload) => {
    const message = payload as Message;
    if (message.type === "outbox") {
      const refusal = await policy.refusalOfUrl(message.inbox);
      if (refusal) {
        log.info("Dropped {type} {id} to {inbox}: that server is {refusal}", {
          type: message.activityType,
          id: message.activityId,
          inbox: message.inbox,
          refusal: describe(refusal),
        });
        return;
      }
    }
    // An activity received before its server was blocked, still queued: dropped too.
    const actor = message.type === "inbox" ? actorOf(message.activity) : null;
    if (actor) {
      const refusal = await policy.refusalOfUrl(actor);
      if (refusal) {
        log.info("Dropped a queued activity from {actor}: that server is {refusal}", { actor, refusal: describe(refusal) });
        return;
      }
    }
    await federation.processQueuedTask(undefined, message);
  };
}

const describe = (refusal: Exclude<Refusal, null>) => (refusal === "blocked" ? "blocked" : "not on the allow-list");

/** The actor id of a queued inbox activity (compacted JSON-LD: `actor` is an id or an object with one). */
function actorOf(activity: unknown): string | null {
  const actor = (activity as { actor?: unknown } | null)?.actor;
  const first = Array.isArray(actor) ? actor[0] : actor;
  const id = typeof first === "object" && first !== null ? (first as { id?: unknown }).id : first;
  return typeof id === "string" && URL.canParse(id) ? id : null;
}
