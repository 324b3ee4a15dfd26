import type { Federation, Message } from "@fedify/fedify";
import type { Task } from "graphile-worker";
import { getLogger } from "../../config/logging.ts";
import type { DomainPolicy } from "../../core/moderation/domain-policy.ts";

const log = getLogger(["polyphony", "moderation", "delivery"]);

/**
 * Runs one of Fedify's queued messages (outbox delivery, inbox processing, fan-out). Every delivery of
 * ours, whoever queued it (follow flow, library publications, anything later), is one `outbox` message
 * per inbox: a delivery to a server we do not federate with (blocked, or off the allow-list) is dropped
 * here, when it would go out, so a block also stops what was queued before it.
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
          refusal: refusal === "blocked" ? "blocked" : "not on the allow-list",
        });
        return;
      }
    }
    await federation.processQueuedTask(undefined, message);
  };
}
