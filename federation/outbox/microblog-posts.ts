import type { Context } from "@fedify/fedify";
import { Create, Note, type Recipient } from "@fedify/vocab";
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { NOTES_PER_HOUR, notesBudgetKey } from "../../core/fediverse/album-announcements.ts";
import { RateLimiter } from "../../core/rate-limit/rate-limiter.ts";

const log = getLogger(["polyphony", "federation", "outbox", "notes"]);

/** A post to make: its key (the Note's id, dereferenceable: dispatchers/notes.ts), who posts it, its Note. */
export interface Post {
  key: string;
  actorUsername: string;
  note(ids: { note: URL; actor: URL }): Note;
}

/**
 * Create(Note) of each post to a library's or playlist's microblog followers, within the collection's
 * budget of NOTES_PER_HOUR (a rate_limit counter): past it, posts are logged and dropped, as a person
 * would not post them all either. The Create is addressed as its Note is. Returns how many went.
 */
export async function sendPosts(ctx: Context<void>, pool: pg.Pool, collectionId: string, recipients: Recipient[], posts: Post[]): Promise<number> {
  const budget = new RateLimiter({ db: pool, max: NOTES_PER_HOUR, windowSeconds: 3600 });
  let sent = 0;
  for (const post of posts) {
    if ((await budget.record(notesBudgetKey(collectionId))).hits > NOTES_PER_HOUR) {
      log.info("{collection} posted {max} Notes this hour: {count} posts dropped", { collection: collectionId, max: NOTES_PER_HOUR, count: posts.length - sent });
      break;
    }
    sent += 1;
    const actor = ctx.getActorUri(post.actorUsername);
    const note = post.note({ note: ctx.getObjectUri(Note, { id: post.key }), actor });
    const create = new Create({ id: new URL(`${note.id!.href}/activity`), actor, object: note, tos: note.toIds, ccs: note.ccIds, published: note.published });
    await ctx.sendActivity({ identifier: post.actorUsername }, recipients, create, { preferSharedInbox: true });
  }
  return sent;
}
