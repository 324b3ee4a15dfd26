import type { InboxListenerSetters } from "@fedify/fedify";
import { Accept, Follow, Reject, Undo } from "@fedify/vocab";
import { getLogger } from "../../config/logging.ts";
import type { FollowInbox } from "../../core/fediverse/follow-inbox.ts";
import { followReply, sendTo } from "../outbox/follows.ts";

const log = getLogger(["polyphony", "federation", "inbox", "follows"]);

/**
 * Follow, Undo(Follow), Accept and Reject (funkwhale-federation.md §2.3). Fedify has checked that the
 * activity's actor signed it; FollowInbox decides what it means for our libraries and follows.
 * Accept and Reject name the follow by its actor and object, so the embedded Follow is read as sent
 * even though its id is on our server (the library's server rebuilds it, as Funkwhale does).
 */
export function registerFollowListeners(listeners: InboxListenerSetters<void>, inbox: FollowInbox): void {
  listeners
    .on(Follow, async (ctx, follow) => {
      if (!follow.actorId || !follow.objectId) return;
      const receipt = await inbox.receiveFollow({ fid: follow.id?.href ?? null, followerFid: follow.actorId.href, objectFid: follow.objectId.href });
      if (!receipt?.reply) return;
      const id = `${receipt.libraryActorFid}#${receipt.reply.toLowerCase()}s/${crypto.randomUUID()}`;
      await sendTo(ctx, receipt.libraryActor, receipt.follower, followReply(receipt.reply, id, receipt.libraryActorFid, receipt.follow));
    })
    .on(Undo, async (_ctx, undo) => {
      const object = await undo.getObject({ crossOrigin: "trust" }).catch(() => null);
      if (!(object instanceof Follow) || !undo.actorId || !object.objectId) return;
      // Only the follower may undo its follow.
      if (object.actorId?.href !== undo.actorId.href) {
        log.info("Undo(Follow) by {actor} of a follow by {follower} ignored", { actor: undo.actorId.href, follower: object.actorId?.href });
        return;
      }
      await inbox.receiveUndo({ followerFid: undo.actorId.href, objectFid: object.objectId.href });
    })
    .on(Accept, (_ctx, accept) => onReply("Accept", accept, inbox))
    .on(Reject, (_ctx, reject) => onReply("Reject", reject, inbox));
}

async function onReply(kind: "Accept" | "Reject", activity: Accept | Reject, inbox: FollowInbox): Promise<void> {
  const follow = await activity.getObject({ crossOrigin: "trust" }).catch(() => null);
  if (!(follow instanceof Follow) || !activity.actorId || !follow.actorId || !follow.objectId) {
    log.debug("{kind} without an embedded Follow ignored", { kind });
    return;
  }
  await inbox.receiveReply(kind, { senderFid: activity.actorId.href, followerFid: follow.actorId.href, objectFid: follow.objectId.href });
}
