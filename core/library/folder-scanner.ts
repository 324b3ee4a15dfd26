import { randomUUID } from "node:crypto";
import type { Dirent, Stats } from "node:fs";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { Invalid } from "../errors.ts";
import { isInside } from "../media/safe-open.ts";
import { attachFolderCovers } from "./folder-covers.ts";
import { refuseServerData } from "./music-folder.ts";
import { enqueueImports, type UploadsService } from "./uploads.service.ts";

const log = getLogger(["polyphony", "library", "scan"]);

/** Files we try to import; anything else in a music folder (images, playlists, .lrc) is left alone. */
export const AUDIO_EXTENSIONS = new Set([".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".wav", ".aif", ".aiff"]);
const CHUNK = 500;

export interface ScanResult {
  batchId: string;
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  /** Albums without a cover that took the cover image of their folder. */
  covers: number;
}

interface FoundFile {
  path: string;
  size: number;
  mtime: Date;
}

/**
 * Audio files under `root`, skipping hidden entries. The symlink policy (README, "Importing music"):
 * symlinked directories are not entered (no loops, no escapes); a symlinked file is taken only when its
 * target is a regular file inside the folder (safe-open.ts), others are skipped with a reason in the log;
 * FIFOs, sockets and devices are never audio.
 */
export async function* walkAudioFiles(root: string, unreadable: string[] = []): AsyncGenerator<FoundFile> {
  const realRoot = await realpath(root).catch((error: NodeJS.ErrnoException) => {
    throw folderUnavailable(root, error);
  });
  yield* walkDirectory(root, { root, realRoot, unreadable });
}

/** A directory that cannot be read says nothing about its files: the root stops the scan, others are listed. */
async function* walkDirectory(dir: string, walk: { root: string; realRoot: string; unreadable: string[] }): AsyncGenerator<FoundFile> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (dir === walk.root) throw folderUnavailable(dir, error as NodeJS.ErrnoException);
    log.warning("Cannot read {dir}: {error}; its files are kept as they were", { dir, error: (error as Error).message });
    walk.unreadable.push(dir);
    return;
  }
  const visible = entries.filter((entry) => !entry.name.startsWith(".")).sort((a, b) => a.name.localeCompare(b.name));
  // A folder's files are looked at all at once (one wait, not one a file), then yielded in name order.
  const files = await Promise.all(
    visible.map(async (entry) => {
      if (!(entry.isFile() || entry.isSymbolicLink()) || !AUDIO_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) return null;
      const full = path.join(dir, entry.name);
      const found = entry.isFile() ? await lstat(full).catch(() => null) : await linkedFile(full, walk.realRoot);
      return found?.isFile() ? { path: full, size: found.size, mtime: found.mtime } : null;
    }),
  );
  for (const [i, entry] of visible.entries()) {
    if (entry.isDirectory()) yield* walkDirectory(path.join(dir, entry.name), walk);
    else if (files[i]) yield files[i];
  }
}

const UNREADABLE_REASONS: Record<string, string> = {
  ENOENT: "it does not exist",
  ENOTDIR: "it is not a directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
};

function folderUnavailable(folder: string, error: NodeJS.ErrnoException): Invalid {
  const reason = UNREADABLE_REASONS[error.code ?? ""] ?? error.message;
  return new Invalid(`The music folder ${folder} cannot be read (${reason}); nothing was changed`, { musicFolder: folder }, "music_folder_unavailable");
}

/** A symlink's target when it is a regular file inside the folder; null (and a log line saying why) otherwise. */
async function linkedFile(link: string, realRoot: string): Promise<Stats | null> {
  const target = await realpath(link).catch(() => null);
  const info = target ? await stat(target).catch(() => null) : null;
  let reason: string | null = null;
  if (!target || !info) reason = "its target does not exist";
  else if (!info.isFile()) reason = "its target is not a regular file";
  else if (!isInside(realRoot, target)) reason = "its target is outside the music folder";
  if (reason) log.warning("Skipping the link {path}: {reason}", { path: link, reason });
  return reason ? null : info;
}

/**
 * Imports a folder in place (files are not copied). New files become pending uploads; files whose
 * size or mtime changed are re-imported (metadata refresh); uploads whose files vanished are deleted
 * with the catalog rows they leave orphaned; albums still without a cover take their folder's cover
 * image. Running it twice creates nothing new. A folder that is gone, or has become (a link to) the
 * server's own data since it was set, is refused (Invalid) before anything is read or removed; one that
 * cannot be read, or is empty where files were known, fails the scan with nothing changed; the files
 * under a subdirectory that cannot be read are kept.
 */
export async function scanFolder(
  deps: TransactionSource & { uploads: UploadsService; coversDir: string; serverDirs: readonly string[] },
  libraryId: string,
  folder: string,
): Promise<ScanResult> {
  await refuseServerData(folder, deps.serverDirs);
  const root = path.resolve(folder);
  // The shared pool hands timestamps back as strings; compare instants.
  const { rows } = await deps.pool.query<{ id: string; path: string; size: string; mtime: string | Date | null }>(
    `SELECT id, path, size, mtime FROM upload WHERE library_id = $1 AND storage = 'in_place' AND starts_with(path, $2)`,
    [libraryId, root + path.sep],
  );
  const known = new Map(rows.map((r) => [r.path, r]));
  // A first scan (nothing known) queues new files a chunk at a time as the walk finds them: the import
  // starts while the walk goes on, and a big library is never held in memory whole. A rescan queues at
  // the end, after the walk: a file moved within the folder must not be imported (and skipped as a
  // duplicate) before its old place is found vanished and removed.
  const streaming = known.size === 0;
  const added: FoundFile[] = [];
  const changed: (FoundFile & { id: string })[] = [];
  const counts = { added: 0, changed: 0, unchanged: 0 };
  let batch: Promise<string> | undefined;
  const batchId = () => (batch ??= deps.uploads.startBatch(libraryId, "folder"));
  const flush = async (all: boolean) => {
    if (added.length && (all || added.length >= CHUNK)) await insertPending(deps, { libraryId, batchId: await batchId(), root }, added.splice(0));
    if (changed.length && (all || changed.length >= CHUNK)) await markChanged(deps, await batchId(), changed.splice(0));
  };
  const unreadable: string[] = [];
  for await (const file of walkAudioFiles(root, unreadable)) {
    const row = known.get(file.path);
    known.delete(file.path);
    if (!row) {
      added.push(file);
      counts.added++;
    } else if (Number(row.size) !== file.size || !row.mtime || new Date(row.mtime).getTime() !== file.mtime.getTime()) {
      changed.push({ ...file, id: row.id });
      counts.changed++;
    } else counts.unchanged++;
    if (streaming) await flush(false);
  }
  await flush(true);
  for (const dir of unreadable) for (const file of known.keys()) if (file.startsWith(dir + path.sep)) known.delete(file);
  // A mount point whose disk is not mounted is an empty folder: that is no reason to forget the disk's music.
  if (counts.added + counts.changed + counts.unchanged === 0 && known.size > 0) {
    const files = `${known.size} file${known.size === 1 ? "" : "s"}`;
    throw new Invalid(
      `The music folder ${root} is empty: its ${files} were kept. If its disk is not mounted, mount it and scan again; ` +
        "to remove its music, delete its uploads or the library",
      { musicFolder: root },
      "music_folder_empty",
    );
  }
  const gone = [...known.values()].map((r) => r.id);
  const removed = gone.length ? await deps.uploads.deleteVanished(gone) : 0;
  const covers = await attachFolderCovers(deps.pool, deps.coversDir, libraryId, root);
  await deps.pool.query("UPDATE library SET last_scan_at = now() WHERE id = $1", [libraryId]);
  const result = { batchId: await batchId(), ...counts, removed, covers };
  log.info("Scanned {folder}: {added} new, {changed} changed, {removed} removed, {unchanged} unchanged, {covers} covers found", {
    folder: root,
    ...result,
  });
  return result;
}

/**
 * One statement for the rows and one for their jobs, in one transaction. `root` is the folder walked: the
 * files may not lead out of it (upload-files.ts).
 */
async function insertPending(
  db: TransactionSource,
  scan: { libraryId: string; batchId: string; root: string },
  files: FoundFile[],
): Promise<void> {
  const ids = files.map(() => randomUUID());
  await withTransaction(db, async ({ sql: client }) => {
    await client.query(
      `INSERT INTO upload (id, library_id, batch_id, storage, path, root, original_name, size, mtime)
       SELECT id, $1, $2, 'in_place', p, $3, n, s, m
       FROM unnest($4::uuid[], $5::text[], $6::text[], $7::bigint[], $8::timestamptz[]) AS f(id, p, n, s, m)
       ON CONFLICT (library_id, path) DO NOTHING`,
      [scan.libraryId, scan.batchId, scan.root, ids, files.map((f) => f.path), files.map((f) => path.basename(f.path)),
        files.map((f) => f.size), files.map((f) => f.mtime)],
    );
    await enqueueImports(client, ids);
  });
}

async function markChanged(db: TransactionSource, batchId: string, files: (FoundFile & { id: string })[]): Promise<void> {
  await withTransaction(db, async ({ sql: client }) => {
    await client.query(
      `UPDATE upload u SET status = 'pending', size = f.s, mtime = f.m, checksum = NULL, batch_id = $1,
         error_code = NULL, error_message = NULL, updated_at = now()
       FROM unnest($2::uuid[], $3::bigint[], $4::timestamptz[]) AS f(id, s, m) WHERE u.id = f.id`,
      [batchId, files.map((f) => f.id), files.map((f) => f.size), files.map((f) => f.mtime)],
    );
    await enqueueImports(client, files.map((f) => f.id));
  });
}


export const SCAN_TASK = "scan_library";

/** Scans run one at a time on a single queue; a scan already waiting for a library absorbs a new request. */
/** SQL: the job key of a library's scan (one waiting scan a library), from its id. */
export const SCAN_JOB_KEY_SQL = (libraryId: string) => `'scan:' || ${libraryId}::text`;

export async function enqueueScan(db: pg.Pool | pg.PoolClient, libraryId: string): Promise<void> {
  await db.query(
    `SELECT graphile_worker.add_job($1, json_build_object('libraryId', $2::text), queue_name => 'library-scan',
       max_attempts => 3, job_key => ${SCAN_JOB_KEY_SQL("$2")})`,
    [SCAN_TASK, libraryId],
  );
}

/**
 * Whether a scan of the library is waiting or running (a scan that used up its attempts no longer counts),
 * and otherwise why its last scan failed, if it did (graphile-worker keeps a failed job with its error until
 * the next request replaces it). The running job keeps its key; a request during a run adds a second job
 * under the same key.
 */
export async function scanState(db: pg.Pool | pg.PoolClient, libraryId: string): Promise<{ scanning: boolean; scanError: string | null }> {
  const { rows } = await db.query<{ scanning: boolean; error: string | null }>(
    `SELECT coalesce(bool_or(attempts < max_attempts), false) AS scanning,
       (array_agg(last_error ORDER BY updated_at DESC) FILTER (WHERE last_error IS NOT NULL))[1] AS error
     FROM graphile_worker.jobs WHERE task_identifier = $1 AND key = ${SCAN_JOB_KEY_SQL("$2")}`,
    [SCAN_TASK, libraryId],
  );
  const { scanning, error } = rows[0]!;
  return { scanning, scanError: scanning ? null : error };
}
