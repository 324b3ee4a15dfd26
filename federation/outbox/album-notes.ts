import type { Context } from "@fedify/fedify";
import type pg from "pg";
import { albumAnnouncements } from "../../core/fediverse/album-announcements.ts";
import { followersOf } from "../../core/fediverse/follower-audiences.ts";
import { objectUrls } from "../../core/fediverse/object-urls.ts";
import { recordSentNotes } from "../../core/fediverse/sent-notes.ts";
import { albumNote } from "../mappers/album-note.ts";
import { sendPosts } from "./microblog-posts.ts";
import { asRecipient } from "./recipients.ts";

/**
 * Create(Note) from the library's actor to its microblog followers, one per album among `uploadIds`
 * (at most NOTES_PER_JOB, and NOTES_PER_HOUR a library): what Mastodon shows in their home timelines.
 */
export async function sendAlbumNotes(ctx: Context<void>, pool: pg.Pool, libraryId: string, uploadIds: string[]): Promise<number> {
  const followers = await followersOf(pool, { kind: "library", id: libraryId }, "microblog");
  if (!followers.length) return 0;
  const urls = objectUrls(new URL(ctx.canonicalOrigin));
  const announcements = await albumAnnouncements(pool, libraryId, uploadIds);
  await recordSentNotes(pool, { kind: "library", id: libraryId }, announcements.map((a) => a.key));
  const posts = announcements.map((a) => ({ key: a.key, actorUsername: a.actorUsername, note: (ids: { note: URL; actor: URL }) => albumNote(a, ids, urls) }));
  return sendPosts(ctx, pool, libraryId, followers.map(asRecipient), posts);
}
