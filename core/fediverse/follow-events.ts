import type { Queryable } from "../jobs/enqueue.ts";

// Follow changes reach the people concerned live (GET /api/v1/events, event `follow`): the owner of a
// library when someone asks to follow it, or stops; a follower when their request is answered. Inbox
// activities run in the worker, so the change travels as a PostgreSQL notification, sent on commit.

export const FOLLOW_EVENTS_CHANNEL = "polyphony_follow";

export type FollowEventState = "pending" | "accepted" | "rejected" | "removed";

/** The `follow` event: which follow of which library, and its state now ("removed": it is gone). */
export interface FollowEvent {
  id: string;
  /** The library followed; a follow of a playlist names the playlist instead. */
  libraryId?: string;
  playlistId?: string;
  /** "follower": a follow of one of the user's libraries; "following": one of the user's own follows. */
  side: "follower" | "following";
  state: FollowEventState;
}

/** Queues the event for `userId`'s streams; PostgreSQL delivers it when the transaction commits. */
export async function notifyFollowEvent(db: Queryable, userId: string, event: FollowEvent): Promise<void> {
  await db.query("SELECT pg_notify($1, $2)", [FOLLOW_EVENTS_CHANNEL, JSON.stringify({ u: userId, e: event })]);
}

export function parseFollowNotification(payload: string): { userId: string; event: FollowEvent } {
  const { u, e } = JSON.parse(payload) as { u: string; e: FollowEvent };
  return { userId: u, event: e };
}
