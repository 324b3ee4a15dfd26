import { createHash, randomUUID } from "node:crypto";
import { batchSeconds, importRate, type ImportRate } from "./import-rate.ts";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { finished, Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import type { AppConfig } from "../../config/env.ts";
import type { User } from "../accounts/user.entity.ts";
import { afterCommit, withTransaction, type TransactionSource } from "../db/transaction.ts";
import { publishUploads } from "../fediverse/library-publications.ts";
import { orGone } from "../db/foreign-key.ts";
import { Conflict, NotFound } from "../errors.ts";
import { enqueueJob } from "../jobs/enqueue.ts";
import { visibleLibrariesSql } from "../catalog/catalog-read.ts";
import { RefusedFile, type OpenFile } from "../media/safe-open.ts";
import { deleteOrphans } from "./orphans.ts";
import { openUploadFile, uploadLocation, type UploadFileFields } from "./upload-files.ts";
import { UploadQuota } from "./upload-quota.ts";
import type { Library } from "./library.entity.ts";
import type { UploadStorage } from "./upload.entity.ts";

/** One job imports a few uploads: per-job queue overhead is paid once per chunk, not per file. */
export const IMPORT_TASK = "import_upload";
export const IMPORT_CHUNK = 32;

export interface Rejection {
  /** Absent for the files past a request's file limit, which are never read. */
  name?: string;
  code: "file_too_large" | "quota_exceeded" | "write_failed" | "too_many_files";
  message: string;
}

export interface BatchCounts {
  pending: number;
  finished: number;
  errored: number;
  skipped: number;
  total: number;
}

export interface UploadRow {
  id: string;
  library_id: string;
  track_id: string | null;
  batch_id: string | null;
  storage: UploadStorage;
  /** Local storages only; remote uploads have source_url (and cached_path once played). */
  path: string | null;
  root: string | null;
  source_url: string | null;
  cached_path: string | null;
  original_name: string;
  size: string;
  mime_type: string | null;
  status: string;
  error_code: string | null;
  error_message: string | null;
  created_at: Date;
  imported_at: Date | null;
}

/** Orders of the uploads list: newest first, or errored ones first (newest first within each group). */
export const UPLOAD_ORDERS = ["recent", "errors-first"] as const;
export type UploadOrder = (typeof UPLOAD_ORDERS)[number];

/** The library (or the batch going with it) was deleted while its upload ran: answered as a missing library. */
const libraryGone = orGone(() => new NotFound("library"), "upload_library_id_foreign", "upload_batch_id_foreign", "import_batch_library_id_foreign");

/** Uploads (alias u) in libraries owned by the user whose id is parameter `param`. */
function ownedUploadSql(param: string): string {
  return `u.library_id IN (SELECT id FROM library WHERE owner_id = ${param})`;
}

/** Which uploads (alias u) each deletion below takes; only these conditions ever reach the DELETE. */
const DELETED = {
  ownedUpload: `u.id = $1 AND ${ownedUploadSql("$2")}`,
  ownedAlbum: `u.track_id IN (SELECT id FROM track WHERE album_id = $1) AND ${ownedUploadSql("$2")}`,
  batch: "u.batch_id = $1",
  library: "u.library_id = $1",
  ids: "u.id = ANY($1::uuid[])",
} as const;

/** Keeps a short, safe extension from a client's file name; the name itself never reaches the disk. */
export function safeExtension(name: string): string {
  const ext = path.extname(name).toLowerCase();
  return /^\.[a-z0-9]{1,5}$/.test(ext) ? ext : "";
}

/** Client file names are shown back to people, so clean them of paths and control characters. */
export function displayName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  const cleaned = base.normalize("NFC").replace(/[\p{Cc}\p{Cf}]/gu, "").trim().slice(0, 255);
  return cleaned || "unnamed";
}

/** Uploaded files: receiving them onto disk, listing, progress, and deletion with catalog clean-up. */
export class UploadsService {
  readonly #db: TransactionSource;
  readonly #pool: pg.Pool;
  readonly #mediaDir: string;
  readonly #maxBytes: number;
  readonly #quota: UploadQuota;

  constructor(deps: TransactionSource & { mediaDir: string; maxUploadBytes: number; userQuotaBytes: number }) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#pool = deps.pool;
    this.#mediaDir = deps.mediaDir;
    this.#maxBytes = deps.maxUploadBytes;
    this.#quota = new UploadQuota({ ...this.#db, quotaBytes: deps.userQuotaBytes });
  }

  get maxUploadBytes(): number {
    return this.#maxBytes;
  }

  async startBatch(libraryId: string, kind: "upload" | "folder"): Promise<string> {
    const id = randomUUID();
    await this.#pool.query("INSERT INTO import_batch (id, library_id, kind) VALUES ($1, $2, $3)", [id, libraryId, kind])
      .catch(libraryGone);
    return id;
  }

  /**
   * Undoes a batch whose request failed (every file rejected, or the request broke off): the client was
   * told nothing was stored, so files already stored go too, or a retry would store them twice.
   */
  async discardBatch(batchId: string, tx?: pg.PoolClient): Promise<void> {
    await this.#inTransaction(tx, async (client) => {
      await this.#delete(client, DELETED.batch, [batchId]);
      await client.query("DELETE FROM import_batch WHERE id = $1", [batchId]);
    });
  }

  /**
   * Streams one file to MEDIA_DIR (never whole in memory), hashing it on the way, then records a
   * pending upload and its import job in one transaction. Over the size limit or the owner's quota
   * (reserved as the bytes arrive, so parallel uploads share it), the partial file is removed and the
   * file is rejected with a reason.
   */
  async receive(owner: User, library: Library, batchId: string, name: string, stream: Readable): Promise<UploadRow | Rejection> {
    const originalName = displayName(name);
    if ((await this.#quota.remaining(owner.id)) <= 0) {
      stream.resume();
      return { name: originalName, code: "quota_exceeded", message: "Your storage quota is used up; delete uploads to make room" };
    }
    const id = randomUUID();
    const relative = path.join("uploads", library.id, id + safeExtension(originalName));
    const target = path.join(this.#mediaDir, relative);
    await mkdir(path.dirname(target), { recursive: true });
    const hash = createHash("sha256");
    const [maxBytes, quota] = [this.#maxBytes, this.#quota];
    let size = 0;
    let reserved = 0;
    let reserving: Promise<unknown> = Promise.resolve();
    // Bytes are reserved against the quota before they are written (core/library/upload-quota.ts).
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > maxBytes) return callback(new SizeExceeded());
        hash.update(chunk);
        if (size <= reserved) return callback(null, chunk);
        const covering = quota.cover(owner.id, id, reserved, size);
        reserving = covering;
        covering.then((covered) => {
          if (covered === undefined) return callback(new QuotaExceeded());
          reserved = covered;
          callback(null, chunk);
        }, callback);
      },
    });
    // The source is piped by hand: on a size error we must keep draining it (not destroy it), or the
    // multipart parser would wait forever for the rest of the request. A source that breaks off (the
    // request was cut short) fails the write, which closes the file; finished() also sees one that
    // broke before we got here.
    const written = pipeline(meter, createWriteStream(`${target}.part`));
    const stopWatching = finished(stream, { writable: false }, (error) => {
      if (error) meter.destroy(error);
    });
    stream.pipe(meter);
    try {
      await written;
      await rename(`${target}.part`, target);
    } catch (error) {
      stream.unpipe(meter);
      stream.resume();
      await rm(`${target}.part`, { force: true });
      // A reservation still being made when the request broke off would land after the release and
      // hold the space for an hour: let it finish first.
      await reserving.catch(() => {});
      await quota.release(id);
      if (error instanceof QuotaExceeded) {
        return { name: originalName, code: "quota_exceeded", message: "This file does not fit in your remaining storage quota" };
      }
      if (error instanceof SizeExceeded) {
        return { name: originalName, code: "file_too_large", message: `The file is larger than the ${formatBytes(maxBytes)} limit` };
      }
      throw error;
    } finally {
      stopWatching();
    }
    try {
      return await withTransaction(this.#db, async ({ sql: client }) => {
        const { rows } = await client.query<UploadRow>(
          `INSERT INTO upload (id, library_id, batch_id, storage, path, original_name, size, checksum)
           VALUES ($1, $2, $3, 'stored', $4, $5, $6, $7) RETURNING *`,
          [id, library.id, batchId, relative, originalName, size, hash.digest("hex")],
        );
        // The reservation becomes the upload's size in the same commit: never counted twice or not at all.
        await quota.release(id, client);
        await enqueueImport(client, id);
        return rows[0]!;
      });
    } catch (error) {
      await rm(target, { force: true });
      await quota.release(id);
      return libraryGone(error);
    }
  }

  async list(
    viewer: User,
    filter: { library?: string; status?: string; batch?: string; order?: UploadOrder; limit: number; offset: number },
  ): Promise<{ items: UploadRow[]; total: number }> {
    const conditions = [visibleLibrariesSql("l", "$1")];
    const params: unknown[] = [viewer.id];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      conditions.push(sql.replace("?", `$${params.length}`));
    };
    if (filter.library) add("u.library_id = ?", filter.library);
    if (filter.status) add("u.status = ?", filter.status);
    if (filter.batch) add("u.batch_id = ?", filter.batch);
    const where = conditions.join(" AND ");
    const errorsFirst = filter.order === "errors-first" ? "(u.status = 'errored') DESC, " : "";
    const total = await this.#pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM upload u JOIN library l ON l.id = u.library_id WHERE ${where}`,
      params,
    );
    const { rows } = await this.#pool.query<UploadRow>(
      `SELECT u.* FROM upload u JOIN library l ON l.id = u.library_id WHERE ${where}
       ORDER BY ${errorsFirst}u.created_at DESC, u.id LIMIT ${filter.limit} OFFSET ${filter.offset}`,
      params,
    );
    return { items: rows, total: total.rows[0]!.n };
  }

  /** An upload the viewer may see, with its library's owner, or NotFound. */
  async get(viewer: User | undefined, id: string): Promise<UploadRow & { owner_id: string | null }> {
    const { rows } = await this.#pool.query<UploadRow & { owner_id: string | null }>(
      `SELECT u.*, l.owner_id FROM upload u JOIN library l ON l.id = u.library_id
       WHERE u.id = $1 AND ${visibleLibrariesSql("l", "$2")}`,
      [id, viewer?.id ?? null],
    );
    if (!rows[0]) throw new NotFound("upload");
    return rows[0];
  }

  /** Progress of the viewer's own import batch, counted by status. */
  async batchProgress(viewer: User, batchId: string): Promise<BatchCounts> {
    const exists = await this.#pool.query(
      "SELECT 1 FROM import_batch b JOIN library l ON l.id = b.library_id WHERE b.id = $1 AND l.owner_id = $2",
      [batchId, viewer.id],
    );
    if (!exists.rowCount) throw new NotFound("import batch");
    return this.batchCounts(batchId);
  }

  batchCounts(batchId: string): Promise<BatchCounts> {
    return this.#countByStatus("batch_id", batchId);
  }

  /** The batch's errored uploads, by path, with their reasons (what `cli import --wait` lists at the end). */
  async batchFailures(batchId: string): Promise<{ path: string; code: string; message: string }[]> {
    const { rows } = await this.#pool.query<{ path: string; code: string; message: string }>(
      `SELECT CASE WHEN storage = 'in_place' THEN path ELSE original_name END AS path,
         coalesce(error_code, 'unknown') AS code, coalesce(error_message, '') AS message
       FROM upload WHERE batch_id = $1 AND status = 'errored' ORDER BY path`,
      [batchId],
    );
    return rows;
  }

  /** How fast the batch imports and how long it has left. */
  batchRate(batchId: string): Promise<ImportRate> {
    return importRate(this.#pool, "batch_id", batchId);
  }

  /** How fast the library's pending uploads import (the caller checked the viewer may see them). */
  libraryRate(libraryId: string): Promise<ImportRate> {
    return importRate(this.#pool, "library_id", libraryId);
  }

  /** From the batch's first upload row to its last settled one, in seconds. */
  batchSeconds(batchId: string): Promise<number | null> {
    return batchSeconds(this.#pool, batchId);
  }

  /** Every upload of a library counted by status (the caller checked the viewer may see them). */
  libraryCounts(libraryId: string): Promise<BatchCounts> {
    return this.#countByStatus("library_id", libraryId);
  }

  async #countByStatus(column: "batch_id" | "library_id", id: string): Promise<BatchCounts> {
    const { rows } = await this.#pool.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM upload WHERE ${column} = $1 GROUP BY status`,
      [id],
    );
    const counts = { pending: 0, finished: 0, errored: 0, skipped: 0, total: 0 };
    for (const row of rows) {
      counts[row.status as "pending"] = row.n;
      counts.total += row.n;
    }
    return counts;
  }

  /** Deletes the owner's upload. Someone else's answers 404 like a missing one. */
  async deleteOne(owner: User, id: string, tx?: pg.PoolClient): Promise<void> {
    const deleted = await this.#inTransaction(tx, (client) => this.#delete(client, DELETED.ownedUpload, [id, owner.id]));
    if (deleted === 0) throw new NotFound("upload");
  }

  /** Deletes the owner's uploads of an album (others' copies stay); none of theirs answers 404 like a missing album. */
  async deleteOwnedOfAlbum(owner: User, albumId: string, tx?: pg.PoolClient): Promise<void> {
    const deleted = await this.#inTransaction(tx, (client) => this.#delete(client, DELETED.ownedAlbum, [albumId, owner.id]));
    if (deleted === 0) throw new NotFound("album");
  }

  /** Deletes every upload of a library (the caller deletes the library in the same transaction). */
  deleteOfLibrary(libraryId: string, tx?: pg.PoolClient): Promise<number> {
    return this.#inTransaction(tx, (client) => this.#delete(client, DELETED.library, [libraryId]));
  }

  /** Deletes the uploads whose files a folder scan no longer found. */
  deleteVanished(uploadIds: string[], tx?: pg.PoolClient): Promise<number> {
    return this.#inTransaction(tx, (client) => this.#delete(client, DELETED.ids, [uploadIds]));
  }

  /**
   * Queues the owner's errored upload for import again (pending, its error cleared, a new job, in one
   * transaction). Only an errored upload can be retried: any other is a Conflict; someone else's is a 404.
   */
  async retry(owner: User, id: string): Promise<UploadRow> {
    return withTransaction(this.#db, async ({ sql: client }) => {
      const { rows } = await client.query<UploadRow>(
        `UPDATE upload u SET status = 'pending', error_code = NULL, error_message = NULL, updated_at = now()
         WHERE u.id = $1 AND u.status = 'errored' AND ${ownedUploadSql("$2")} RETURNING u.*`,
        [id, owner.id],
      );
      if (rows[0]) {
        await enqueueImport(client, id);
        return rows[0];
      }
      const found = await client.query<{ status: string }>(`SELECT u.status FROM upload u WHERE u.id = $1 AND ${ownedUploadSql("$2")}`, [
        id,
        owner.id,
      ]);
      if (!found.rows[0]) throw new NotFound("upload");
      throw new Conflict(`Only a failed upload can be retried; this one is ${found.rows[0].status}`, "not_errored");
    });
  }

  /** `work` in the caller's transaction when given (a federation job then commits with it), else in a new one. */
  #inTransaction<T>(tx: pg.PoolClient | undefined, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return tx ? work(tx) : withTransaction(this.#db, ({ sql }) => work(sql));
  }

  /**
   * Deletes the uploads matching `where` (one of DELETED) and the catalog rows they leave without
   * uploads; the files we stored go once the transaction has committed.
   */
  async #delete(client: pg.PoolClient, where: string, params: unknown[]): Promise<number> {
    const { rows } = await client.query<{
      id: string;
      library_id: string;
      status: string;
      storage: UploadStorage;
      path: string | null;
      cached_path: string | null;
      track_id: string | null;
    }>(`DELETE FROM upload u WHERE ${where} RETURNING u.id, u.library_id, u.status, u.storage, u.path, u.cached_path, u.track_id`, params);
    await deleteOrphans(client, rows.flatMap((r) => (r.track_id ? [r.track_id] : [])));
    // Followers knew only the finished ones.
    await publishUploads(client, "delete", rows.filter((r) => r.status === "finished"));
    // Our files: what was uploaded, and the copies of remote audio (never an in-place folder's).
    const ours = rows.flatMap((r) => (r.storage === "stored" ? [r.path] : r.storage === "remote" ? [r.cached_path] : [])).filter((p) => p !== null);
    afterCommit(client, async () => {
      for (const file of ours) await rm(path.join(this.#mediaDir, file), { force: true });
    });
    return rows.length;
  }

  /** Where an upload's bytes are on disk. */
  filePath(upload: UploadFileFields): string {
    return uploadLocation(this.#mediaDir, upload).file;
  }

  /**
   * An upload's audio, opened inside its folder (upload-files.ts), for streaming. Anything refused answers
   * like a missing upload: NotFound.
   */
  async openFile(upload: UploadFileFields & { id: string }): Promise<OpenFile> {
    try {
      return await openUploadFile(this.#mediaDir, upload);
    } catch (error) {
      if (error instanceof RefusedFile) throw new NotFound("audio file");
      throw error;
    }
  }
}

class SizeExceeded extends Error {}
class QuotaExceeded extends Error {}

export function buildUploadsService(config: AppConfig, db: TransactionSource): UploadsService {
  return new UploadsService({
    pool: db.pool,
    orm: db.orm,
    mediaDir: config.mediaDir,
    maxUploadBytes: config.media.maxUploadBytes,
    userQuotaBytes: config.media.userQuotaBytes,
  });
}

export async function enqueueImport(db: pg.PoolClient | pg.Pool, uploadId: string): Promise<void> {
  await enqueueJob(db, IMPORT_TASK, { uploadIds: [uploadId] }, { maxAttempts: 3 });
}

/** Import jobs for many uploads, IMPORT_CHUNK per job, in one statement (joins the caller's transaction). */
export async function enqueueImports(db: pg.PoolClient | pg.Pool, ids: string[]): Promise<void> {
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += IMPORT_CHUNK) chunks.push(ids.slice(i, i + IMPORT_CHUNK));
  await db.query(
    `SELECT graphile_worker.add_job($1, json_build_object('uploadIds', c::json), max_attempts => 3)
     FROM unnest($2::text[]) AS c`,
    [IMPORT_TASK, chunks.map((chunk) => JSON.stringify(chunk))],
  );
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}
