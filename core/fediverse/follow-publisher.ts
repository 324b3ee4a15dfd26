// What the follow flow sends, named without Fedify: core decides what to say and to whom, and the
import { enqueueJob, type Queryable } from "../jobs/enqueue.ts";
// federation layer (federation/outbox/follows.ts) turns it into activities queued for delivery.

/** An actor to deliver to: its id and inboxes (the shared one preferred when known). */
export interface DeliveryTarget {
  fid: string;
  inboxUrl: string | null;
  sharedInboxUrl: string | null;
}

/** A Follow of a library as both sides name it (Funkwhale's shape: object = the Library collection's id). */
export interface FollowActivity {
  /** The Follow's own id. */
  fid: string;
  followerFid: string;
  /** What was followed: the Library collection's id. */
  objectFid: string;
}

/**
 * Sends the follow flow's activities. `from` is a local actor's identifier (its username): a person
 * for Follow and Undo, a library's actor for Accept and Reject. `id` is the new activity's id.
 */
export interface FollowPublisher {
  sendFollow(from: string, to: DeliveryTarget, follow: FollowActivity): Promise<void>;
  /** Undo with the Follow embedded (Funkwhale routes on object.type). */
  sendUndo(from: string, to: DeliveryTarget, follow: FollowActivity, id: string): Promise<void>;
  /** Accept or Reject of `follow` (Reject also revokes an accepted follower). */
  sendReply(kind: "Accept" | "Reject", from: string, to: DeliveryTarget, follow: FollowActivity, id: string): Promise<void>;
}

/** The job that sends one queued follow-flow activity (workers/tasks/send-follow-activity.task.ts). */
export const SEND_FOLLOW_TASK = "send_follow_activity";

/** A FollowPublisher call, as a job's payload. */
export type QueuedFollowSend =
  | { method: "sendFollow"; args: Parameters<FollowPublisher["sendFollow"]> }
  | { method: "sendUndo"; args: Parameters<FollowPublisher["sendUndo"]> }
  | { method: "sendReply"; args: Parameters<FollowPublisher["sendReply"]> };

/**
 * A FollowPublisher that queues each activity as a job in the caller's transaction: it goes out if and
 * only if the change it tells of commits, and from the worker, never from the HTTP request.
 */
export function queuedFollowPublisher(tx: Queryable): FollowPublisher {
  const queue = (send: QueuedFollowSend) => enqueueJob(tx, SEND_FOLLOW_TASK, send);
  return {
    sendFollow: (...args) => queue({ method: "sendFollow", args }),
    sendUndo: (...args) => queue({ method: "sendUndo", args }),
    sendReply: (...args) => queue({ method: "sendReply", args }),
  };
}

/** Sends a queued call through the publisher that really delivers (the worker's, on Fedify). */
export function sendQueued(publisher: FollowPublisher, send: QueuedFollowSend): Promise<void> {
  switch (send.method) {
    case "sendFollow":
      return publisher.sendFollow(...send.args);
    case "sendUndo":
      return publisher.sendUndo(...send.args);
    case "sendReply":
      return publisher.sendReply(...send.args);
  }
}
