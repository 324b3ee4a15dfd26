import type { Federation } from "@fedify/fedify";
import { Update } from "@fedify/vocab";
import type pg from "pg";
import { type FollowedCollection, followersOf } from "../../core/fediverse/follower-audiences.ts";
import { asRecipient } from "./recipients.ts";

/**
 * Update of a library's (or playlist's) actor (its whole document) to its microblog followers after a
 * change of name, description or privacy: Mastodon shows the profile it copied until told, where library
 * peers read the Update(Library) or Update(Playlist) of the publish job.
 */
export async function sendProfileUpdate(federation: Federation<void>, publicUrl: URL, pool: pg.Pool, target: FollowedCollection, username: string): Promise<void> {
  const followers = await followersOf(pool, target, "microblog");
  if (!followers.length) return;
  // getActor runs the actor dispatcher, which only a request context offers.
  const ctx = federation.createContext(new Request(publicUrl), undefined);
  const actor = await ctx.getActor(username);
  if (!actor?.id) return;
  const update = new Update({ id: new URL(`${actor.id.href}#update/${crypto.randomUUID()}`), actor: actor.id, object: actor, to: ctx.getFollowersUri(username) });
  await ctx.sendActivity({ identifier: username }, followers.map(asRecipient), update, { preferSharedInbox: true });
}
