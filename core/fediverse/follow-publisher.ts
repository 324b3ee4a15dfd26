// What the follow flow sends, named without Fedify: core decides what to say and to whom, and the
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
