import type { Context } from "@fedify/fedify";
import { Delete, Note, Tombstone } from "@fedify/vocab";
import type pg from "pg";
import { followersOf, type FollowedCollection } from "../../core/fediverse/follower-audiences.ts";
import { forgetNotes, goneNotes } from "../../core/fediverse/sent-notes.ts";
import { asRecipient } from "./recipients.ts";

/**
 * Delete of each Note of a library or playlist whose upload or item is gone (core/fediverse/sent-notes.ts)
 * to its microblog followers, signed by its actor: Mastodon removes the post
 * (ActivityPub::Activity::Delete#delete_note finds it by the object's id), sent in the shape of Mastodon's
 * own (a Tombstone object). The Note already answers 404 at its id. One recorded but never posted (past
 * the hourly budget) is deleted as well: Mastodon ignores it.
 */
export async function sendNoteDeletions(ctx: Context<void>, pool: pg.Pool, owner: FollowedCollection & { username: string }): Promise<number> {
  const keys = await goneNotes(pool, owner);
  if (!keys.length) return 0;
  const followers = await followersOf(pool, owner, "microblog");
  const actor = ctx.getActorUri(owner.username);
  for (const key of followers.length ? keys : []) {
    const note = ctx.getObjectUri(Note, { id: key });
    const activity = new Delete({ id: new URL(`${note.href}/delete`), actor, object: new Tombstone({ id: note }), to: ctx.getFollowersUri(owner.username) });
    await ctx.sendActivity({ identifier: owner.username }, followers.map(asRecipient), activity, { preferSharedInbox: true });
  }
  // Only once every Delete is queued: a job that fails before retries with the Notes still remembered.
  await forgetNotes(pool, keys);
  return followers.length ? keys.length : 0;
}
