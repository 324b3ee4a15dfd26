import type { Context } from "@fedify/fedify";
import { Delete, PUBLIC_COLLECTION } from "@fedify/vocab";
import type { PublicationRecipient } from "../../core/fediverse/library-publications.ts";
import { asRecipient } from "./recipients.ts";

/**
 * Delete of a library's or playlist's actor, signed by that actor, to its microblog followers: Mastodon
 * ignores a Delete of a collection it cannot show, but removes the account (and its follow) on a Delete
 * whose object is its actor (ActivityPub::Activity::Delete#delete_person), the shape of Mastodon's own
 * (DeleteActorSerializer). The keys sign after the deletion: a tombstone keeps them.
 */
export async function sendActorDeletion(ctx: Context<void>, username: string, recipients: PublicationRecipient[]): Promise<void> {
  if (!recipients.length) return;
  const actor = ctx.getActorUri(username);
  const activity = new Delete({ id: new URL(`${actor.href}#delete/${crypto.randomUUID()}`), actor, object: actor, to: PUBLIC_COLLECTION });
  await ctx.sendActivity({ identifier: username }, recipients.map(asRecipient), activity, { preferSharedInbox: true });
}
