import { randomUUID } from "node:crypto";
import type { User } from "../accounts/user.entity.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { NotFound, RateLimited } from "../errors.ts";
import { enqueueJob, type Queryable } from "../jobs/enqueue.ts";
import type { RemoteScanStatus } from "./remote-scan.entity.ts";
import { acceptedFollowersSql } from "./follows.queries.ts";

/** The job walking a remote library's pages (workers/tasks/scan-remote-library.task.ts). */
export const REMOTE_SCAN_TASK = "scan_remote_library";
/** One waiting scan a library: a second request while one waits replaces it. */
export const remoteScanJobKey = (libraryId: string) => `${REMOTE_SCAN_TASK}:${libraryId}`;
/** A person may ask again this long after a scan finished (administrators at any time; failed scans do not count). */
export const RESCAN_THROTTLE_MS = 10 * 60_000;
/** The daily cron rescans a library whose last finished scan is older than this. */
export const SCHEDULED_RESCAN_AFTER_MS = 20 * 3600_000;

/** A scan as the library page shows it. */
export interface RemoteScanView {
  id: string;
  status: RemoteScanStatus;
  reason: string | null;
  pages: number;
  itemsSeen: number;
  itemsAdded: number;
  itemsUpdated: number;
  itemsRemoved: number;
  itemsSkipped: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

const VIEW_COLUMNS = `id, library_id AS "libraryId", status, reason, pages, items_seen AS "itemsSeen", items_added AS "itemsAdded",
  items_updated AS "itemsUpdated", items_removed AS "itemsRemoved", items_skipped AS "itemsSkipped", created_at AS "createdAt",
  started_at AS "startedAt", finished_at AS "finishedAt"`;

/**
 * Queues a scan of remote library `libraryId` in the caller's transaction: a `queued` scan row (unless one
 * already waits) and the job, under the library's job key. `force` skips the job's own throttle (a scan
 * that finished less than RESCAN_THROTTLE_MS ago). Returns the waiting scan's id.
 */
export async function enqueueRemoteScan(
  tx: Queryable,
  libraryId: string,
  options: { force?: boolean; requestedBy?: string | null } = {},
): Promise<string> {
  const { rows } = await tx.query(
    `WITH waiting AS (SELECT id FROM remote_scan WHERE library_id = $2 AND status = 'queued' ORDER BY created_at DESC LIMIT 1),
     added AS (INSERT INTO remote_scan (id, library_id, requested_by_id) SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM waiting) RETURNING id)
     SELECT id FROM added UNION ALL SELECT id FROM waiting`,
    [randomUUID(), libraryId, options.requestedBy ?? null],
  );
  await enqueueJob(tx, REMOTE_SCAN_TASK, { libraryId, force: options.force ?? false }, { jobKey: remoteScanJobKey(libraryId), maxAttempts: 3 });
  return (rows[0] as { id: string }).id;
}

/** Asking for scans of remote libraries, and reading their state. The walk itself: remote-library-scan.ts. */
export class RemoteScansService {
  readonly #db: TransactionSource;

  constructor(deps: TransactionSource) {
    this.#db = { pool: deps.pool, orm: deps.orm };
  }

  /** The latest scan of each of these libraries that has one. */
  async latest(libraryIds: string[]): Promise<Map<string, RemoteScanView>> {
    if (!libraryIds.length) return new Map();
    const { rows } = await this.#db.pool.query<RemoteScanView & { libraryId: string }>(
      `SELECT DISTINCT ON (library_id) ${VIEW_COLUMNS} FROM remote_scan WHERE library_id = ANY($1::uuid[])
       ORDER BY library_id, created_at DESC, id`,
      [libraryIds],
    );
    return new Map(rows.map(({ libraryId, ...scan }) => [libraryId, withDates(scan)]));
  }

  /**
   * A person's Scan button on a remote library they follow (the caller checked they may see it): the scan
   * waiting or running, else a new one, unless one finished less than RESCAN_THROTTLE_MS ago (RateLimited;
   * administrators are not held back).
   */
  async request(user: Pick<User, "id" | "role">, libraryId: string): Promise<RemoteScanView> {
    const scanId = await withTransaction(this.#db, async ({ sql: tx }) => {
      // One request at a time per library: two clicks queue one scan.
      const { rowCount } = await tx.query("SELECT 1 FROM library WHERE id = $1 AND owner_id IS NULL FOR UPDATE", [libraryId]);
      if (!rowCount) throw new NotFound("library");
      const { rows } = await tx.query<{ id: string; status: RemoteScanStatus; since_ms: number | null }>(
        `SELECT id, status, extract(epoch FROM now() - finished_at) * 1000 AS since_ms FROM remote_scan
         WHERE library_id = $1 AND status <> 'errored' ORDER BY created_at DESC LIMIT 1`,
        [libraryId],
      );
      const last = rows[0];
      if (last && last.status !== "finished") return last.id;
      const since = last?.since_ms === null || last?.since_ms === undefined ? Infinity : Number(last.since_ms);
      if (since < RESCAN_THROTTLE_MS && user.role !== "admin") {
        const wait = Math.ceil((RESCAN_THROTTLE_MS - since) / 1000);
        throw new RateLimited(wait, `This library was scanned ${minutes(since)} ago; it can be scanned again in ${minutes(wait * 1000)}`, "scan_too_soon");
      }
      return enqueueRemoteScan(tx, libraryId, { force: true, requestedBy: user.id });
    });
    const { rows } = await this.#db.pool.query<RemoteScanView>(`SELECT ${VIEW_COLUMNS} FROM remote_scan WHERE id = $1`, [scanId]);
    const { libraryId: _, ...scan } = rows[0] as RemoteScanView & { libraryId: string };
    return withDates(scan);
  }

  /**
   * The daily cron: a scan of every remote library someone here follows with an accepted follow, unless
   * one waits or runs, or one finished within SCHEDULED_RESCAN_AFTER_MS. How many were queued.
   */
  async enqueueScheduled(): Promise<number> {
    const { rows } = await this.#db.pool.query<{ id: string }>(
      `SELECT l.id FROM library l
       WHERE l.owner_id IS NULL
         AND EXISTS (SELECT 1 FROM ${acceptedFollowersSql("l.id", "local")})
         -- A followed playlist's library is scanned with the playlist (enqueueScheduledPlaylistScans).
         AND NOT EXISTS (SELECT 1 FROM playlist p WHERE p.library_id = l.id)
         AND NOT EXISTS (SELECT 1 FROM remote_scan s WHERE s.library_id = l.id
                         AND (s.status IN ('queued', 'scanning') OR (s.status = 'finished' AND s.finished_at > now() - $1::interval)))`,
      [`${SCHEDULED_RESCAN_AFTER_MS / 1000} seconds`],
    );
    for (const { id } of rows) await withTransaction(this.#db, ({ sql: tx }) => enqueueRemoteScan(tx, id));
    return rows.length;
  }
}

/** The shared pool hands timestamps back as text. */
function withDates(scan: RemoteScanView): RemoteScanView {
  const date = (value: Date | string | null) => (value === null ? null : new Date(value));
  return { ...scan, createdAt: date(scan.createdAt)!, startedAt: date(scan.startedAt), finishedAt: date(scan.finishedAt) };
}

function minutes(ms: number): string {
  const n = Math.max(1, Math.round(ms / 60_000));
  return `${n} minute${n === 1 ? "" : "s"}`;
}
