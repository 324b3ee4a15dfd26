import type { Federation, Message } from "@fedify/fedify";
import type { Task } from "graphile-worker";

/** Runs one of Fedify's queued messages (outbox delivery, inbox processing, fan-out). */
export function fedifyTask(federation: Federation<void>): Task {
  return async (payload) => {
    await federation.processQueuedTask(undefined, payload as Message);
  };
}
