import type { Context } from "@fedify/fedify";
import { Delete, Note, Tombstone } from "@fedify/vocab";
import type pg from "pg";
import { followersOf } from "../../core/fediverse/follower-audiences.ts";
import { asRecipient } from "./recipients.ts";

/** Remembers the Notes a library is about to post, so their deletion can be told later (sendNoteDeletions). */
export async function recordSentNotes(pool: pg.Pool, libraryId: string, keys: string[]): Promise<void> {
  if (!keys.length) return;
  await pool.query(
    "INSERT INTO sent_note (key, library_id) SELECT unnest($1::uuid[]), $2 ON CONFLICT (key) DO NOTHING",
    [keys, libraryId],
  );
}

/**
 * Delete of each Note among these uploads (deleted from the library) to its microblog followers, signed
 * by the library's actor: Mastodon removes the post (ActivityPub::Activity::Delete#delete_note finds it by
 * the object's id), in the shape of its own (a Tombstone object). The Note already answers 404 at its id.
 * A Note recorded but never posted (past the hourly budget) is deleted as well: Mastodon ignores it.
 */
export async function sendNoteDeletions(ctx: Context<void>, pool: pg.Pool, library: { id: string; username: string }, uploadIds: string[]): Promise<number> {
  const { rows } = await pool.query<{ key: string }>(
    "DELETE FROM sent_note WHERE library_id = $1 AND key = ANY($2::uuid[]) RETURNING key",
    [library.id, uploadIds],
  );
  if (!rows.length) return 0;
  const followers = await followersOf(pool, { kind: "library", id: library.id }, "microblog");
  if (!followers.length) return 0;
  const actor = ctx.getActorUri(library.username);
  for (const { key } of rows) {
    const note = ctx.getObjectUri(Note, { id: key });
    const activity = new Delete({ id: new URL(`${note.href}/delete`), actor, object: new Tombstone({ id: note }), to: ctx.getFollowersUri(library.username) });
    await ctx.sendActivity({ identifier: library.username }, followers.map(asRecipient), activity, { preferSharedInbox: true });
  }
  return rows.length;
}
