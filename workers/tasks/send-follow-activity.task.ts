import type { Federation } from "@fedify/fedify";
import type { Task } from "graphile-worker";
import { type QueuedFollowSend, sendQueued } from "../../core/fediverse/follow-publisher.ts";
import { fedifyFollowPublisher } from "../../federation/outbox/follows.ts";

/** Sends a follow-flow activity queued with the change it tells of (core/fediverse/follow-publisher.ts). */
export function sendFollowActivityTask(federation: Federation<void>, publicUrl: URL): Task {
  const publisher = fedifyFollowPublisher(federation, publicUrl);
  return (payload) => sendQueued(publisher, payload as QueuedFollowSend);
}
