import type { Context } from "@fedify/fedify";
import { Create, Note } from "@fedify/vocab";
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { albumAnnouncements, microblogFollowers, NOTES_PER_HOUR, notesBudgetKey } from "../../core/fediverse/album-announcements.ts";
import { objectUrls } from "../../core/fediverse/object-urls.ts";
import { RateLimiter } from "../../core/rate-limit/rate-limiter.ts";
import { albumNote } from "../mappers/album-note.ts";
import { asRecipient } from "./recipients.ts";

const log = getLogger(["polyphony", "federation", "outbox", "notes"]);

/**
 * Create(Note) from the library's actor to its microblog followers, one per album among `uploadIds`
 * (at most NOTES_PER_JOB, and NOTES_PER_HOUR a library): what Mastodon shows in their home timelines.
 * The Note's id is dereferenceable (dispatchers/notes.ts); the Create is addressed as its Note is.
 */
export async function sendAlbumNotes(ctx: Context<void>, pool: pg.Pool, libraryId: string, uploadIds: string[]): Promise<number> {
  const followers = await microblogFollowers(pool, libraryId);
  if (!followers.length) return 0;
  const recipients = followers.map(asRecipient);
  const urls = objectUrls(new URL(ctx.canonicalOrigin));
  const announcements = await albumAnnouncements(pool, libraryId, uploadIds);
  const budget = new RateLimiter({ db: pool, max: NOTES_PER_HOUR, windowSeconds: 3600 });
  let sent = 0;
  for (const announcement of announcements) {
    if ((await budget.record(notesBudgetKey(libraryId))).hits > NOTES_PER_HOUR) {
      log.info("Library {library} posted {max} Notes this hour: {count} albums go unannounced", {
        library: libraryId, max: NOTES_PER_HOUR, count: announcements.length - sent,
      });
      break;
    }
    sent += 1;
    const actor = ctx.getActorUri(announcement.actorUsername);
    const note = albumNote(announcement, { note: ctx.getObjectUri(Note, { id: announcement.key }), actor }, urls);
    const create = new Create({ id: new URL(`${note.id!.href}/activity`), actor, object: note, tos: note.toIds, ccs: note.ccIds, published: note.published });
    await ctx.sendActivity({ identifier: announcement.actorUsername }, recipients, create, { preferSharedInbox: true });
  }
  return sent;
}
