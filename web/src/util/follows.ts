// Words for follow states, shared by both sides' lists.
import type { FollowState } from "../types.ts";

/** A follow of a library on another server, as its follower sees it. */
export const FOLLOWING_LABELS: Record<FollowState, string> = {
  pending: "Waiting for approval",
  accepted: "Following",
  rejected: "Refused",
};

/** A follower of one of your libraries, as its owner sees it. */
export const FOLLOWER_LABELS: Record<FollowState, string> = {
  pending: "Asks to follow",
  accepted: "Follower",
  rejected: "Refused",
};
