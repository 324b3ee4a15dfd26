import { randomUUID } from "node:crypto";
import type pg from "pg";
import { enqueueJob, type Queryable } from "../jobs/enqueue.ts";
import type { UploadsService } from "../library/uploads.service.ts";
import { dropUnfollowedContent } from "./follows.queries.ts";
import type { LibraryPreview } from "./library-lookup.ts";

// Remote playlists, follower side (issue 17, point 1): a row per followed playlist (its fid, the actor
// speaking for it, the remote library holding its items' audio), seen by its accepted followers here,
// read-only. What it lists is read by a `scan_remote_playlist` job (remote-playlist-scan.ts), queued
// on Accept and on every Update(Playlist) its server sends.

/** The job reading a followed playlist: its document, its library (a remote library scan), its items. */
export const REMOTE_PLAYLIST_SCAN_TASK = "scan_remote_playlist";

/** The daily cron rescans a followed playlist last read longer ago than this (a Delete that never came, say). */
const SCHEDULED_RESCAN_AFTER = "20 hours";

/**
 * Queues a scan of remote playlist `playlistId` in the caller's transaction: one waiting per playlist,
 * and one running at a time (its queue), so two edits in a row are read in turn.
 */
export async function enqueueRemotePlaylistScan(tx: Queryable, playlistId: string, requestedBy: string | null = null): Promise<void> {
  await enqueueJob(tx, REMOTE_PLAYLIST_SCAN_TASK, { playlistId, requestedBy }, {
    jobKey: `${REMOTE_PLAYLIST_SCAN_TASK}:${playlistId}`,
    queueName: `${REMOTE_PLAYLIST_SCAN_TASK}:${playlistId}`,
    maxAttempts: 5,
  });
}

/** The daily cron: a scan of each followed playlist (accepted) not read for SCHEDULED_RESCAN_AFTER. How many were queued. */
export async function enqueueScheduledPlaylistScans(db: Queryable): Promise<number> {
  const { rows } = await db.query(
    `SELECT p.id FROM playlist p
     WHERE p.owner_id IS NULL AND (p.last_scan_at IS NULL OR p.last_scan_at < now() - $1::interval)
       AND EXISTS (SELECT 1 FROM follow f JOIN actor a ON a.id = f.follower_id AND a.is_local WHERE f.playlist_id = p.id AND f.state = 'accepted')`,
    [SCHEDULED_RESCAN_AFTER],
  );
  for (const { id } of rows as { id: string }[]) await enqueueRemotePlaylistScan(db, id);
  return rows.length;
}

/** The remote playlist `preview` names, created or refreshed (name, description, speaker); returns its id. */
export async function upsertRemotePlaylist(
  tx: pg.PoolClient,
  preview: Pick<LibraryPreview, "fid" | "name" | "summary" | "owner">,
  speakerId: string,
): Promise<string> {
  // Its owner, as the lookup stored their actor (a remote actor row), is who the playlist shows as by.
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO playlist (id, owner_id, actor_id, fid, name, description, privacy, remote_owner_id)
     VALUES ($1, NULL, $2, $3, $4, $5, 'private', (SELECT id FROM actor WHERE fid = $6 AND NOT is_local))
     ON CONFLICT (fid) DO UPDATE SET actor_id = EXCLUDED.actor_id, name = EXCLUDED.name, description = EXCLUDED.description,
       remote_owner_id = EXCLUDED.remote_owner_id, updated_at = now()
     WHERE playlist.owner_id IS NULL
     RETURNING id`,
    [randomUUID(), speakerId, preview.fid, preview.name.slice(0, 200), (preview.summary ?? "").slice(0, 5000), preview.owner?.fid ?? null],
  );
  if (!rows[0]) throw new Error(`playlist ${preview.fid} is a local one`);
  return rows[0].id;
}

/**
 * What a remote playlist keeps once nobody here follows it (accepted): its items go, and the copies its
 * library alone held (dropUnfollowedContent); without any follow at all (none pending) the playlist
 * row goes too. Runs in the caller's transaction.
 */
export async function dropUnfollowedPlaylist(tx: pg.PoolClient, uploads: UploadsService, playlistId: string): Promise<void> {
  const { rows } = await tx.query<{ library_id: string | null; accepted: number; total: number }>(
    `SELECT p.library_id,
            (SELECT count(*) FILTER (WHERE f.state = 'accepted') FROM follow f WHERE f.playlist_id = p.id)::int AS accepted,
            (SELECT count(*) FROM follow f WHERE f.playlist_id = p.id)::int AS total
     FROM playlist p WHERE p.id = $1 AND p.owner_id IS NULL FOR UPDATE`,
    [playlistId],
  );
  const playlist = rows[0];
  if (!playlist || playlist.accepted > 0) return;
  await tx.query("DELETE FROM playlist_item WHERE playlist_id = $1", [playlistId]);
  if (playlist.total === 0) await tx.query("DELETE FROM playlist WHERE id = $1", [playlistId]);
  if (playlist.library_id) await dropUnfollowedContent(tx, uploads, playlist.library_id);
}

/**
 * Its server deleted the playlist (or made it private): every follow of it here goes, then the playlist
 * and what only it held. Runs in the caller's transaction.
 */
export async function dropRemotePlaylist(tx: pg.PoolClient, uploads: UploadsService, playlistId: string): Promise<void> {
  await tx.query("DELETE FROM follow WHERE playlist_id = $1", [playlistId]);
  await dropUnfollowedPlaylist(tx, uploads, playlistId);
}
