/**
 * The cache of remote audio: copies of remote uploads under MEDIA_DIR/remote-cache, recorded on their
 * upload (cached_path, cached_size, cache_used_at: migration 0018) and kept under a size cap by evicting
 * the least recently played. Each copy gets a name of its own (`<upload id>.<random>.<ext>`), so a copy
 * being replaced or evicted never removes another one that took its place.
 */
import { randomBytes } from "node:crypto";
import { lstat, readdir, rm } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import type { Queryable } from "../jobs/enqueue.ts";
import { safeExtension } from "./uploads.service.ts";

const log = getLogger(["polyphony", "library", "remote-cache"]);

export const REMOTE_CACHE_DIR = "remote-cache";
/** A copy's last use is written at most this often: a play must not cost a write each time. */
const TOUCH_EVERY = "1 minute";
/** A `.part` file untouched this long is no download's any more; an unrecorded copy this old never will be. */
const LEFTOVER_IDLE_MS = 60 * 60 * 1000;

const EXTENSIONS: Record<string, string> = {
  "audio/mpeg": ".mp3",
  "audio/mp3": ".mp3",
  "audio/flac": ".flac",
  "audio/x-flac": ".flac",
  "audio/ogg": ".ogg",
  "audio/opus": ".opus",
  "audio/mp4": ".m4a",
  "audio/aac": ".aac",
  "audio/wav": ".wav",
  "audio/x-wav": ".wav",
};

/** A new name for a copy of the upload, relative to MEDIA_DIR, and the `.part` file it is written as first. */
export function newCopyPath(upload: { id: string; mime_type: string | null; original_name: string }): { relative: string; part: string } {
  const ext = EXTENSIONS[upload.mime_type?.toLowerCase() ?? ""] ?? (safeExtension(upload.original_name) || ".audio");
  const relative = path.join(REMOTE_CACHE_DIR, upload.id.slice(0, 2), `${upload.id}.${randomBytes(6).toString("hex")}${ext}`);
  return { relative, part: `${relative}.part` };
}

/**
 * Records a complete copy on its upload, now used. Returns whether the upload is still there and the copy
 * it replaces (another process's download of the same track that finished first), which the caller removes.
 */
export async function recordCopy(db: Queryable, uploadId: string, relative: string, size: number): Promise<{ recorded: boolean; replaced: string | null }> {
  const { rows } = await db.query(
    `UPDATE upload u SET cached_path = $2, cached_size = $3, cache_used_at = now()
     FROM (SELECT id, cached_path FROM upload WHERE id = $1 FOR UPDATE) old
     WHERE u.id = old.id AND u.storage = 'remote' RETURNING old.cached_path AS replaced`,
    [uploadId, relative, size],
  );
  const row = rows[0] as { replaced: string | null } | undefined;
  return { recorded: Boolean(row), replaced: row?.replaced ?? null };
}

/** Notes a play from the copy (at most once a minute a copy). */
export async function touchCopy(db: Queryable, uploadId: string, relative: string): Promise<void> {
  await db.query(
    `UPDATE upload SET cache_used_at = now() WHERE id = $1 AND cached_path = $2 AND cache_used_at < now() - interval '${TOUCH_EVERY}'`,
    [uploadId, relative],
  );
}

/** Forgets a copy whose file is gone (removed by hand, or evicted by another process as we read the row). */
export async function forgetCopy(db: Queryable, uploadId: string, relative: string): Promise<void> {
  await db.query("UPDATE upload SET cached_path = NULL, cached_size = NULL, cache_used_at = NULL WHERE id = $1 AND cached_path = $2", [uploadId, relative]);
}

/**
 * Evicts the least recently played copies until the rest fit in `maxBytes` (`keep`, a copy just made, is
 * counted first and never evicted). One statement: copies evicted by a concurrent call are skipped, so each
 * file is removed once. Returns how many copies went.
 */
export async function evictCopies(db: Queryable, mediaDir: string, maxBytes: number, keep: string | null = null): Promise<number> {
  const { rows } = await db.query(
    `WITH ranked AS (
       SELECT id, cached_path, sum(cached_size) OVER (ORDER BY id = $2::uuid DESC NULLS LAST, cache_used_at DESC, id) AS running
       FROM upload WHERE cached_path IS NOT NULL)
     UPDATE upload u SET cached_path = NULL, cached_size = NULL, cache_used_at = NULL
     FROM ranked r WHERE u.id = r.id AND r.running > $1 AND u.id IS DISTINCT FROM $2::uuid AND u.cached_path = r.cached_path
     RETURNING r.cached_path`,
    [maxBytes, keep],
  );
  const paths = (rows as { cached_path: string }[]).map((r) => r.cached_path);
  await removeCopies(mediaDir, paths);
  if (paths.length) log.info("Evicted {count} remote audio copies to stay under {bytes} bytes", { count: paths.length, bytes: maxBytes });
  return paths.length;
}

export async function removeCopies(mediaDir: string, relatives: (string | null)[]): Promise<void> {
  for (const relative of relatives) {
    if (!relative) continue;
    await rm(path.join(mediaDir, relative), { force: true }).catch((error: unknown) => {
      log.warning("Could not remove the remote audio copy {path}: {error}", { path: relative, error });
    });
  }
}

/**
 * What a crash (or a lost race) leaves in the cache: `.part` files no download writes any more, and
 * copies no upload names (renamed into place, then the process died before recording them; or their
 * upload was deleted while they were written). Both only once an hour old, so live downloads are safe.
 */
export async function removeCacheLeftovers(db: pg.Pool, mediaDir: string): Promise<{ parts: number; unrecorded: number }> {
  const root = path.join(mediaDir, REMOTE_CACHE_DIR);
  const names = await readdir(root, { recursive: true }).catch(() => []);
  const stale: string[] = [];
  for (const name of names) {
    const info = await lstat(path.join(root, name)).catch(() => null);
    if (info?.isFile() && Date.now() - info.mtimeMs >= LEFTOVER_IDLE_MS) stale.push(path.join(REMOTE_CACHE_DIR, name));
  }
  const parts = stale.filter((name) => name.endsWith(".part"));
  const copies = stale.filter((name) => !name.endsWith(".part"));
  const { rows } = await db.query<{ cached_path: string }>("SELECT cached_path FROM upload WHERE cached_path = ANY($1::text[])", [copies]);
  const recorded = new Set(rows.map((r) => r.cached_path));
  const unrecorded = copies.filter((name) => !recorded.has(name));
  await removeCopies(mediaDir, [...parts, ...unrecorded]);
  return { parts: parts.length, unrecorded: unrecorded.length };
}
