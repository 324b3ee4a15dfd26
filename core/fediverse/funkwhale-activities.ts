import { createHash } from "node:crypto";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { enqueueJob } from "../jobs/enqueue.ts";
import type { LibrarySyncInbox } from "./library-sync-inbox.ts";

export const FUNKWHALE_ACTIVITY_TASK = "funkwhale_activity";

/** How long an activity is remembered as seen: Funkwhale's retries (5, with backoff) are over well before. */
const SEEN_FOR = "2 days";

const MUSIC_TYPES = ["Track", "Album", "Artist"] as const;

/**
 * A Funkwhale activity about library contents, read from raw JSON (funkwhale-federation.md §3.5, §8
 * items 2-4): Fedify's parser drops them (no activity id, integer `duration`, `object.id` lists, `fw:`
 * object types, a context it would fetch), so they are routed as Funkwhale does, by raw `type` and
 * `object.type`.
 */
export type FunkwhaleActivity =
  | { kind: "audio"; actor: string; audioIds: string[] }
  | { kind: "delete"; actor: string; objectIds: string[] }
  | { kind: "update-library"; actor: string; libraryFid: string }
  | { kind: "update-music"; actor: string; objectType: (typeof MUSIC_TYPES)[number]; objectFid: string };

const urlOf = (value: unknown): string | null => {
  const id = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as { id?: unknown }).id : value;
  return typeof id === "string" && URL.canParse(id) ? id : null;
};

/** The URLs of an `id` that may be one URL or a list of them (Funkwhale's Delete(Audio)). */
function idsOf(value: unknown): string[] | null {
  const ids = (Array.isArray(value) ? value : [value]).map(urlOf);
  return ids.length && ids.every((id) => id !== null) ? (ids as string[]) : null;
}

/**
 * The Funkwhale activity `activity` is, or null for anything else (it goes on to Fedify unchanged):
 * Create/Update/Delete whose object (or each of its objects) is embedded with a `type` of Audio,
 * Library, Track, Album or Artist. An object named only by its URL says nothing of its type: Fedify's.
 */
export function funkwhaleActivityOf(activity: Record<string, unknown>): FunkwhaleActivity | null {
  const type = activity.type;
  const actor = urlOf(Array.isArray(activity.actor) ? activity.actor[0] : activity.actor);
  if ((type !== "Create" && type !== "Update" && type !== "Delete") || !actor) return null;
  const objects = Array.isArray(activity.object) ? activity.object : [activity.object];
  if (!objects.length || !objects.every((o) => typeof o === "object" && o !== null && !Array.isArray(o))) return null;
  const types = new Set(objects.map((o) => (o as { type?: unknown }).type));
  const objectType = types.size === 1 ? [...types][0] : undefined;
  const ids = objects.map((o) => idsOf((o as { id?: unknown }).id));
  if (ids.some((list) => list === null)) return null;
  const objectIds = [...new Set((ids as string[][]).flat())];
  if (objectType === "Audio") return type === "Delete" ? { kind: "delete", actor, objectIds } : { kind: "audio", actor, audioIds: objectIds };
  if (objectType === "Library" && objectIds.length === 1) {
    if (type === "Update") return { kind: "update-library", actor, libraryFid: objectIds[0]! };
    if (type === "Delete") return { kind: "delete", actor, objectIds };
  }
  const music = MUSIC_TYPES.find((t) => t === objectType);
  if (music && type === "Update" && objectIds.length === 1) return { kind: "update-music", actor, objectType: music, objectFid: objectIds[0]! };
  return null;
}

/** JSON with every object's keys sorted: the same activity re-serialized (a retry) hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * Takes a verified activity for the worker: a job, unless the same activity was taken already (by its id,
 * or, as Funkwhale's carry none, by a hash of its JSON), remembered for a while in Fedify's KV table.
 * One transaction: the mark of "seen" commits with its job or not at all. True when it was queued.
 */
export async function queueFunkwhaleActivity(
  db: TransactionSource,
  activity: FunkwhaleActivity,
  source: { id: string | null; json: unknown },
): Promise<boolean> {
  const seen = source.id ?? `sha256:${createHash("sha256").update(canonicalJson(source.json)).digest("hex")}`;
  return withTransaction(db, async ({ sql }) => {
    const claimed = await sql.query(
      `INSERT INTO fedify_kv (key, value, expires_at) VALUES ($1, 'true'::jsonb, now() + $2::interval)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
       WHERE fedify_kv.expires_at IS NOT NULL AND fedify_kv.expires_at <= now()`,
      [["polyphony", "funkwhale-activity", activity.actor, seen], SEEN_FOR],
    );
    if (claimed.rowCount !== 1) return false;
    await enqueueJob(sql, FUNKWHALE_ACTIVITY_TASK, activity, { maxAttempts: 5 });
    return true;
  });
}

/** Applies a queued activity through live sync, which reads every object again from its server. */
export async function applyFunkwhaleActivity(sync: LibrarySyncInbox, activity: FunkwhaleActivity): Promise<void> {
  switch (activity.kind) {
    case "audio":
      return sync.receiveAudio(activity.actor, activity.audioIds);
    case "delete":
      return sync.receiveDelete(activity.actor, activity.objectIds);
    case "update-library":
      return sync.receiveLibraryUpdate(activity.actor, activity.libraryFid);
    case "update-music":
      return sync.receiveMusicUpdate(activity.actor, activity.objectType, activity.objectFid);
  }
}
