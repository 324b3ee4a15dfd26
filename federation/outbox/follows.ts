import type { Context, Federation } from "@fedify/fedify";
import { Accept, type Activity, Follow, Reject, Undo } from "@fedify/vocab";
import type { DeliveryTarget, FollowActivity, FollowPublisher } from "../../core/fediverse/follow-publisher.ts";

// The follow flow's activities, in the shapes Funkwhale sends and reads (funkwhale-federation.md §2.3):
// the other side's actor in `to`, the Follow embedded in Accept, Reject and Undo. Fedify queues each one
// (a `fedify` job); the worker signs and delivers it, to the shared inbox when the actor has one.

/** The Follow activity, as sent and as embedded in the answers to it. */
export function followObject(follow: FollowActivity, to: string): Follow {
  return new Follow({ id: new URL(follow.fid), actor: new URL(follow.followerFid), object: new URL(follow.objectFid), to: new URL(to) });
}

/** Accept or Reject of `follow`, from the library's actor to the follower. */
export function followReply(kind: "Accept" | "Reject", id: string, from: string, follow: FollowActivity): Activity {
  const Kind = kind === "Accept" ? Accept : Reject;
  return new Kind({ id: new URL(id), actor: new URL(from), object: followObject(follow, from), to: new URL(follow.followerFid) });
}

export async function sendTo(ctx: Context<void>, from: string, to: DeliveryTarget, activity: Activity): Promise<void> {
  const recipient = {
    id: new URL(to.fid),
    inboxId: to.inboxUrl ? new URL(to.inboxUrl) : null,
    endpoints: to.sharedInboxUrl ? { sharedInbox: new URL(to.sharedInboxUrl) } : null,
  };
  await ctx.sendActivity({ identifier: from }, recipient, activity, { preferSharedInbox: true });
}

/** The FollowPublisher core's services send through (built once per process, beside the Federation). */
export function fedifyFollowPublisher(federation: Federation<void>, origin: URL): FollowPublisher {
  const context = () => federation.createContext(origin, undefined);
  const actorFid = (identifier: string) => context().getActorUri(identifier).href;
  return {
    sendFollow: (from, to, follow) => sendTo(context(), from, to, followObject(follow, to.fid)),
    sendUndo: (from, to, follow, id) =>
      sendTo(context(), from, to, new Undo({ id: new URL(id), actor: new URL(follow.followerFid), object: followObject(follow, to.fid), to: new URL(to.fid) })),
    sendReply: (kind, from, to, follow, id) => sendTo(context(), from, to, followReply(kind, id, actorFid(from), follow)),
  };
}
