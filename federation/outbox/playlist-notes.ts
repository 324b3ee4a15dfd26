import type { Context } from "@fedify/fedify";
import type pg from "pg";
import { followersOf } from "../../core/fediverse/follower-audiences.ts";
import { objectUrls } from "../../core/fediverse/object-urls.ts";
import { playlistAnnouncement } from "../../core/fediverse/playlist-announcements.ts";
import { recordSentNotes } from "../../core/fediverse/sent-notes.ts";
import { playlistNote } from "../mappers/playlist-note.ts";
import { sendPosts } from "./microblog-posts.ts";
import { asRecipient } from "./recipients.ts";

/**
 * Create(Note) from the playlist's actor to its microblog followers: one for the items an edit added
 * (those still in it), within the playlist's NOTES_PER_HOUR. Library peers read the playlist again instead.
 */
export async function sendPlaylistNote(ctx: Context<void>, pool: pg.Pool, playlistId: string, itemIds: string[], added: number): Promise<number> {
  const followers = await followersOf(pool, { kind: "playlist", id: playlistId }, "microblog");
  if (!followers.length) return 0;
  const announcement = await playlistAnnouncement(pool, playlistId, itemIds, added);
  if (!announcement) return 0;
  await recordSentNotes(pool, { kind: "playlist", id: playlistId }, [announcement.key]);
  const urls = objectUrls(new URL(ctx.canonicalOrigin));
  const post = { key: announcement.key, actorUsername: announcement.actorUsername, note: (ids: { note: URL; actor: URL }) => playlistNote(announcement, ids, urls) };
  return sendPosts(ctx, pool, playlistId, followers.map(asRecipient), [post]);
}
