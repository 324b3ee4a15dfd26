import type pg from "pg";
import { visibleItemSql } from "../catalog/catalog-read.ts";
import { enqueueScan, SCAN_JOB_KEY_SQL, SCAN_TASK, scanState } from "./folder-scanner.ts";

/** Whose libraries a call is about: the caller's own, or every library for an administrator. */
export interface ScanCaller {
  id: string;
  role: "admin" | "user";
}

export interface ScanOverview {
  /** A scan of one of the caller's libraries waits or runs, or one of their uploads waits for import. */
  scanning: boolean;
  /** Songs the caller may see. */
  count: number;
  lastScanAt: Date | null;
}

/** Folder scans of libraries: queueing them and reading their state from the job queue. */
export class LibraryScansService {
  readonly #pool: pg.Pool;

  constructor(deps: { pool: pg.Pool }) {
    this.#pool = deps.pool;
  }

  /** Queues a scan of the library's music folder (in the caller's transaction when given). */
  enqueue(libraryId: string, tx?: pg.PoolClient): Promise<void> {
    return enqueueScan(tx ?? this.#pool, libraryId);
  }

  /** Whether a scan of the library waits or runs, and otherwise why its last one failed. */
  state(libraryId: string): ReturnType<typeof scanState> {
    return scanState(this.#pool, libraryId);
  }

  /** Queues a scan of every library of the caller that has a music folder; how many were queued. */
  enqueueAllOf(caller: ScanCaller): Promise<number> {
    return this.#enqueueFolders(caller.id, caller.role === "admin");
  }

  /** Queues a scan of every library that has a music folder (the worker's cron). */
  enqueueEveryFolder(): Promise<number> {
    return this.#enqueueFolders(null, true);
  }

  async #enqueueFolders(ownerId: string | null, all: boolean): Promise<number> {
    const { rows } = await this.#pool.query<{ id: string }>(
      "SELECT id FROM library WHERE music_folder IS NOT NULL AND owner_id IS NOT NULL AND (owner_id = $1 OR $2)",
      [ownerId, all],
    );
    for (const row of rows) await this.enqueue(row.id);
    return rows.length;
  }

  /** The library's music folder; null when it has none or is gone. */
  async musicFolderOf(libraryId: string): Promise<string | null> {
    const { rows } = await this.#pool.query<{ music_folder: string | null }>(
      "SELECT music_folder FROM library WHERE id = $1 AND owner_id IS NOT NULL",
      [libraryId],
    );
    return rows[0]?.music_folder ?? null;
  }

  /**
   * Scans and imports of the caller's own libraries, and the songs they may see: someone else's scan or
   * upload is no business of theirs. One statement.
   */
  async overview(caller: ScanCaller): Promise<ScanOverview> {
    // Folder scans only: remote libraries (no owner) have their own scans (core/fediverse/remote-scans.service.ts).
    const mine = (alias: string) => `(${alias}.owner_id IS NOT NULL AND ($2 OR ${alias}.owner_id = $1))`;
    const { rows } = await this.#pool.query<{ scanning: boolean; count: number; last_scan: string | Date | null }>(
      `SELECT EXISTS (SELECT 1 FROM graphile_worker.jobs j JOIN library l ON j.key = ${SCAN_JOB_KEY_SQL("l.id")}
                      WHERE j.task_identifier = $3 AND ${mine("l")})
           OR EXISTS (SELECT 1 FROM upload u JOIN library l ON l.id = u.library_id WHERE u.status = 'pending' AND ${mine("l")}) AS scanning,
         (SELECT count(*)::int FROM track t WHERE ${visibleItemSql("tracks", "t", "$1")}) AS count,
         (SELECT max(l.last_scan_at) FROM library l WHERE ${mine("l")}) AS last_scan`,
      [caller.id, caller.role === "admin", SCAN_TASK],
    );
    const row = rows[0]!;
    return { scanning: row.scanning, count: row.count, lastScanAt: row.last_scan ? new Date(row.last_scan) : null };
  }
}
