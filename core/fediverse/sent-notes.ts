import type { Queryable } from "../jobs/enqueue.ts";
import type { FollowedCollection } from "./follower-audiences.ts";

// The Notes posted to a library's or playlist's microblog followers (migration 0033), remembered by key so
// that a Note can be deleted on their servers once the upload or playlist item naming it is gone.

const OWNER_COLUMN = { library: "library_id", playlist: "playlist_id" } as const;
/** What a Note's key names: a library's upload, a playlist's item. */
const KEY_TABLE = { library: "upload", playlist: "playlist_item" } as const;

/** The collection's Notes whose upload or item is gone (alias `s` for sent_note). */
const goneNotesWhere = (kind: FollowedCollection["kind"]) =>
  `s.${OWNER_COLUMN[kind]} = $1 AND NOT EXISTS (SELECT 1 FROM ${KEY_TABLE[kind]} x WHERE x.id = s.key)`;

/** Remembers the Notes a library or playlist is about to post. */
export async function recordSentNotes(db: Queryable, owner: FollowedCollection, keys: string[]): Promise<void> {
  if (!keys.length) return;
  await db.query(`INSERT INTO sent_note (key, ${OWNER_COLUMN[owner.kind]}) SELECT unnest($1::uuid[]), $2 ON CONFLICT (key) DO NOTHING`, [keys, owner.id]);
}

/** Whether the collection has a Note left to delete. */
export async function hasGoneNotes(db: Queryable, owner: FollowedCollection): Promise<boolean> {
  const { rowCount } = await db.query(`SELECT 1 FROM sent_note s WHERE ${goneNotesWhere(owner.kind)} LIMIT 1`, [owner.id]);
  return Boolean(rowCount);
}

/** The keys of the collection's Notes whose upload or item is gone: to delete, then forget (forgetNotes). */
export async function goneNotes(db: Queryable, owner: FollowedCollection): Promise<string[]> {
  const { rows } = await db.query(`SELECT s.key FROM sent_note s WHERE ${goneNotesWhere(owner.kind)}`, [owner.id]);
  return (rows as { key: string }[]).map((row) => row.key);
}

/** Forgets Notes once their Delete is on its way (a retried job that sent some already sends them again: harmless). */
export async function forgetNotes(db: Queryable, keys: string[]): Promise<void> {
  await db.query("DELETE FROM sent_note WHERE key = ANY($1::uuid[])", [keys]);
}
