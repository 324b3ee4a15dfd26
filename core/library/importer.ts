import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { linkUnmatchedListens } from "../listens/listen-ingest.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { enqueueTrackAnalysis } from "../analysis/analysis-queue.ts";
import { publishUploads } from "../fediverse/library-publications.ts";
import { DomainError } from "../errors.ts";
import { FolderCoverFinder, processCover } from "../media/artwork.ts";
import { withFileNameTags } from "../media/file-name-tags.ts";
import { withFolderTags } from "../media/folder-tags.ts";
import type { TrackTags } from "../media/tags.ts";
import { refusedAudio } from "../media/tag-reader.ts";
import { TagReaderPool } from "../media/tag-reader-pool.ts";
import { RefusedFile, type OpenFile } from "../media/safe-open.ts";
import { commitBatch } from "./catalog-batch.ts";
import { albumKey, catalogLockKeys, lockKeys, writeCatalog } from "./catalog-writer.ts";
import { storeFolderCover } from "./folder-covers.ts";
import { deleteOrphans } from "./orphans.ts";
import { openUploadFile, uploadLocation } from "./upload-files.ts";

const log = getLogger(["polyphony", "library", "import"]);

interface PendingUpload {
  id: string;
  original_name: string;
  library_id: string;
  track_id: string | null;
  storage: "stored" | "in_place";
  path: string;
  root: string | null;
  checksum: string | null;
  status: string;
}

const READS_IN_FLIGHT = 8;
/** Files up to this size are held in memory while imported: at most READS_IN_FLIGHT x job concurrency of them. */
const WHOLE_FILE_BYTES = 16 * 1024 * 1024;
/** How many files of an album without a cover are read with their pictures before it is taken to have none. */
const COVER_READS_PER_ALBUM = 3;

interface Prepared {
  upload: PendingUpload;
  tags: TrackTags;
  checksum: string;
  coverHash: string | null;
  size: number;
  mtime: Date;
}

/** What the file's name and (for a music folder's file) its folders say where the tags are silent. */
function withPlaceTags(tags: TrackTags, upload: PendingUpload, file: string, root: string): TrackTags {
  const relative = path.relative(root, path.dirname(file));
  const folders = upload.storage === "in_place" && !relative.startsWith("..") ? relative.split(path.sep).filter(Boolean) : [];
  const named = withFolderTags(withFileNameTags(tags, upload.original_name), folders);
  return tags.title === null && named.album === null ? { ...named, identifiedByBytesOnly: true } : named;
}

function duplicateMessage(originalName: string): string {
  return `The same file is already in this library as "${originalName}"`;
}

/** The upload row's new values after a successful import, as one JSON record. */
function finishedRow(item: Prepared, trackId: string) {
  const { tags } = item;
  return {
    id: item.upload.id,
    track_id: trackId,
    checksum: item.checksum,
    size: item.size,
    mtime: item.mtime,
    mime_type: tags.mimeType,
    duration_ms: tags.durationSeconds === null ? null : Math.round(tags.durationSeconds * 1000),
    bitrate: tags.bitrate === null ? null : Math.round(tags.bitrate),
    sample_rate: tags.sampleRate,
    bit_depth: tags.bitDepth,
    channels: tags.channels,
    codec: tags.codec,
    lossless: tags.lossless,
    replay_gain: tags.replayGain,
    lyrics: tags.lyrics?.text ?? null,
    lyrics_synced: tags.lyrics?.synced ?? null,
  };
}

async function markFinished(client: pg.PoolClient, rows: ReturnType<typeof finishedRow>[]): Promise<void> {
  await client.query(
    `UPDATE upload u SET status = 'finished', track_id = x.track_id, checksum = x.checksum, size = x.size, mtime = x.mtime,
       mime_type = x.mime_type, duration_ms = x.duration_ms, bitrate = x.bitrate, sample_rate = x.sample_rate,
       bit_depth = x.bit_depth, channels = x.channels, codec = x.codec, lossless = x.lossless, replay_gain = x.replay_gain,
       lyrics = x.lyrics, lyrics_synced = x.lyrics_synced, error_code = NULL, error_message = NULL,
       imported_at = now(), updated_at = now()
     FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, track_id uuid, checksum text, size bigint, mtime timestamptz,
       mime_type text, duration_ms int, bitrate int, sample_rate int, bit_depth int, channels int, codec text,
       lossless boolean, replay_gain jsonb, lyrics text, lyrics_synced boolean)
     WHERE u.id = x.id AND u.id = ANY($2::uuid[])`,
    [JSON.stringify(rows), rows.map((r) => r.id)],
  );
}

async function markSkipped(client: pg.PoolClient, rows: { id: string; checksum: string; message: string }[]): Promise<void> {
  await client.query(
    `UPDATE upload u SET status = 'skipped', checksum = x.checksum, track_id = NULL, error_code = 'duplicate',
       error_message = x.message, updated_at = now()
     FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, checksum text, message text) WHERE u.id = x.id AND u.id = ANY($2::uuid[])`,
    [JSON.stringify(rows), rows.map((r) => r.id)],
  );
}

/**
 * Locks the items' uploads that are still pending and returns those items. A second run of the same
 * job (a worker taken for dead) may have finished them meanwhile: without this, an upload would be
 * found a duplicate of itself. Locked in id order, so two runs never wait on each other in a cycle.
 */
async function lockStillPending<T extends { upload: PendingUpload }>(client: pg.PoolClient, items: T[]): Promise<T[]> {
  const { rows } = await client.query<{ id: string }>(
    "SELECT id FROM upload WHERE id = ANY($1::uuid[]) AND status = 'pending' ORDER BY id FOR UPDATE",
    [items.map((i) => i.upload.id)],
  );
  const pending = new Set(rows.map((r) => r.id));
  return items.filter((i) => pending.has(i.upload.id));
}

/**
 * Imports one pending upload: tags -> cover -> catalog match -> finished; or errored with a reason a
 * person can act on; or skipped when the same bytes are already in the library. Safe to run again
 * after a crash: nothing is committed until the one final transaction.
 */
export class Importer {
  readonly #db: TransactionSource;
  readonly #pool: pg.Pool;
  readonly #mediaDir: string;
  readonly #genreSeparators: string | undefined;
  readonly #analysisQueues: number;
  #covers = new FolderCoverFinder();
  /** Album key -> the cover its files gave (or null): the rest of an album's files skip their pictures. */
  #albumCovers = new Map<string, { cover: Promise<string | null>; reads: number }>();
  /** Folder -> its cover image, stored (or null). */
  #folderCovers = new Map<string, Promise<string | null>>();
  #folders = new Map<string, Promise<ReadonlySet<string>>>();
  #coversSince = Date.now();
  readonly #reader: TagReaderPool;

  /**
   * `analysisQueues`: ANALYSIS_CONCURRENCY, the queues analysis jobs are spread over (analysis-queue.ts).
   * `reader`: the threads that read tags and checksums (one pool per process).
   */
  constructor(deps: TransactionSource & { mediaDir: string; genreSeparators?: string; analysisQueues?: number; reader?: TagReaderPool }) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#reader = deps.reader ?? new TagReaderPool();
    this.#pool = deps.pool;
    this.#mediaDir = deps.mediaDir;
    this.#genreSeparators = deps.genreSeparators;
    this.#analysisQueues = deps.analysisQueues ?? 1;
  }

  /** Ends the reader threads (the worker's stop); an import after this fails. */
  close(): Promise<void> {
    return this.#reader.close();
  }

  get coversDir(): string {
    return path.join(this.#mediaDir, "covers");
  }

  async importUpload(uploadId: string): Promise<void> {
    await this.importUploads([uploadId]);
  }

  /**
   * Imports a chunk: each file is read (a few at a time); files we cannot use are marked errored at
   * once; first-time imports then commit together (catalog-batch.ts), re-imports one by one.
   */
  async importUploads(uploadIds: string[]): Promise<void> {
    const { rows } = await this.#pool.query<PendingUpload>(
      // Remote uploads are described by their Audio object, never imported from a file.
      "SELECT * FROM upload WHERE id = ANY($1::uuid[]) AND status = 'pending' AND storage <> 'remote' ORDER BY path",
      [uploadIds],
    );
    const prepared: Prepared[] = [];
    const queue = [...rows];
    await Promise.all(
      Array.from({ length: READS_IN_FLIGHT }, async () => {
        for (let upload = queue.shift(); upload; upload = queue.shift()) {
          const item = await this.#prepare(upload);
          if (item) prepared.push(item);
        }
      }),
    );
    const fresh = prepared.filter((p) => !p.upload.track_id);
    if (fresh.length) await this.#commitFresh(fresh);
    for (const item of prepared.filter((p) => p.upload.track_id)) await this.#reimport(item);
  }

  /** Reads one file; a file we cannot use is marked errored with its reason and yields nothing. */
  async #prepare(upload: PendingUpload): Promise<Prepared | undefined> {
    try {
      const opened = await this.#open(upload);
      try {
        return await this.#read(upload, opened);
      } finally {
        await opened.handle.close();
      }
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      await this.#pool.query(
        `UPDATE upload SET status = 'errored', error_code = $2, error_message = $3, updated_at = now()
         WHERE id = $1 AND status = 'pending'`,
        [upload.id, error.code, error.message],
      );
      log.info("Import of upload {uploadId} failed: {reason}", { uploadId: upload.id, reason: error.message });
      return undefined;
    }
  }

  /** The upload's file, opened inside its folder (safe-open.ts): every read below goes through it. */
  async #open(upload: PendingUpload): Promise<OpenFile> {
    try {
      return await openUploadFile(this.#mediaDir, upload);
    } catch (error) {
      if (!(error instanceof RefusedFile)) throw error;
      throw error.code === "missing" ? new MissingFile() : refusedAudio(error);
    }
  }

  async #read(upload: PendingUpload, opened: OpenFile): Promise<Prepared> {
    const { file, root } = uploadLocation(this.#mediaDir, upload);
    // Small files are read once, for both the tags and the checksum, whole, on a reader thread through our
    // descriptor: their bytes never come to this thread, whose garbage collection they drove.
    const whole = opened.size <= WHOLE_FILE_BYTES ? { fd: opened.handle.fd, size: opened.size } : undefined;
    this.#expireCaches();
    const request = { file, root, siblings: [...(await this.#siblings(file))], genreSeparators: this.#genreSeparators };
    const first = await this.#reader.read({ ...request, opened: whole, skipPictures: true, hash: !upload.checksum });
    // Untagged files are titled and numbered from their names, never all one "Untitled" track.
    let tags = withPlaceTags(first.tags, upload, file, root);
    const checksum = upload.checksum ?? first.checksum!;
    const key = albumKey(tags);
    // The first files of an album seen lately are read again with their pictures, until one has a
    // cover: not every track of an album embeds it, and files are read in no particular order.
    const claim = await this.#claimCoverRead(key);
    if (claim) {
      try {
        tags = withPlaceTags((await this.#reader.read({ ...request, opened: whole, skipPictures: false, hash: false })).tags, upload, file, root);
      } catch (error) {
        claim.abandon();
        throw error;
      }
      claim.settle(this.#cover(tags, file, root));
    }
    const known = this.#albumCovers.get(key);
    // An album's files may sit in several folders (one per disc): each folder's cover counts.
    const coverHash = (known ? await known.cover : null) ?? (await this.#folderCover(file, root));
    return { upload, tags, checksum, coverHash, size: opened.size, mtime: opened.mtime };
  }

  /**
   * Whether this file is the one to read its album's pictures: claimed before any wait, so the files of
   * one album read side by side decode the picture once, not once each (an Ogg picture is base64).
   */
  async #claimCoverRead(key: string): Promise<{ settle(cover: Promise<string | null>): void; abandon(): void } | undefined> {
    const previous = this.#albumCovers.get(key);
    if (previous && (previous.reads >= COVER_READS_PER_ALBUM || (await previous.cover) !== null)) return undefined;
    if (previous && this.#albumCovers.get(key) !== previous) return undefined; // another file claimed it meanwhile
    const cover = Promise.withResolvers<string | null>();
    const entry = { cover: cover.promise, reads: (previous?.reads ?? 0) + 1 };
    this.#albumCovers.set(key, entry);
    const forget = () => this.#albumCovers.get(key) === entry && this.#albumCovers.delete(key);
    return {
      settle(stored) {
        stored.catch(forget);
        cover.resolve(stored);
      },
      // This file could not be read: the album's next file tries instead.
      abandon() {
        forget();
        cover.resolve(null);
      },
    };
  }

  async #commitFresh(prepared: Prepared[]): Promise<void> {
    const outcomes = await withTransaction(this.#db, async ({ sql: client }) => {
      const items = await lockStillPending(client, prepared);
      const result = await commitBatch(
        client,
        items.map((i) => ({ ...i, uploadId: i.upload.id, libraryId: i.upload.library_id, originalName: i.upload.original_name })),
      );
      const finished = items.flatMap((i) => {
        const outcome = result.get(i.upload.id);
        return outcome?.kind === "finished" ? [finishedRow(i, outcome.trackId)] : [];
      });
      const skipped = items.flatMap((i) => {
        const outcome = result.get(i.upload.id);
        return outcome?.kind === "skipped" ? [{ id: i.upload.id, checksum: i.checksum, message: duplicateMessage(outcome.duplicateOf) }] : [];
      });
      if (finished.length) await markFinished(client, finished);
      // Listens kept under their own names until their track came: linked now, in the same transaction.
      if (finished.length) await linkUnmatchedListens(client, [...new Set(finished.map((row) => row.track_id))]);
      // Each new track's audio analysis, queued with the import's commit (a low-priority job).
      await enqueueTrackAnalysis(client, finished.map((row) => row.track_id), this.#analysisQueues);
      if (skipped.length) await markSkipped(client, skipped);
      const libraryOf = new Map(items.map((i) => [i.upload.id, i.upload.library_id]));
      await publishUploads(client, "create", finished.map((row) => ({ id: row.id, library_id: libraryOf.get(row.id)! })));
      return result;
    });
    for (const item of prepared) {
      if (outcomes.get(item.upload.id)?.kind === "skipped" && item.upload.storage === "stored") {
        await rm(path.join(this.#mediaDir, item.upload.path), { force: true });
      }
    }
  }

  /** Folder listings and album covers are cached for a bulk import, but not so long that a new cover goes unseen. */
  #expireCaches(): void {
    // Bounded too, so a long import keeps a flat memory profile.
    if (Date.now() - this.#coversSince < 60_000 && this.#folders.size < 256 && this.#albumCovers.size < 256) return;
    this.#covers = new FolderCoverFinder();
    this.#albumCovers = new Map();
    this.#folderCovers = new Map();
    this.#folders = new Map();
    this.#coversSince = Date.now();
  }

  /** The names beside a file (for .lrc lyrics), one listing per folder. */
  #siblings(file: string): Promise<ReadonlySet<string>> {
    const dir = path.dirname(file);
    let names = this.#folders.get(dir);
    if (!names) {
      names = readdir(dir).then((entries) => new Set(entries), () => new Set<string>());
      this.#folders.set(dir, names);
    }
    return names;
  }

  /** Embedded picture first, else cover/folder/front image beside the file (inside the folder, safe-open.ts). */
  async #cover(tags: TrackTags, file: string, root: string): Promise<string | null> {
    if (tags.picture) return (await processCover(tags.picture.data, this.coversDir)).hash;
    return this.#folderCover(file, root);
  }

  /** The cover image beside a file, stored once per folder. */
  #folderCover(file: string, root: string): Promise<string | null> {
    const dir = path.dirname(file);
    let cover = this.#folderCovers.get(dir);
    if (!cover) {
      cover = storeFolderCover(this.#covers, file, root, this.coversDir);
      this.#folderCovers.set(dir, cover);
      cover.catch(() => this.#folderCovers.delete(dir));
    }
    return cover;
  }

  /** A re-import (metadata refresh) of an upload that already had a track, which it may refresh or leave. */
  async #reimport(item: Prepared): Promise<void> {
    const { upload, tags } = item;
    const outcome = await withTransaction(this.#db, async ({ sql: client }) => {
      if (!(await lockStillPending(client, [item])).length) return "done elsewhere" as const;
      await lockKeys(client, [`dup:${upload.library_id}:${item.checksum}`, ...catalogLockKeys(tags)]);
      const duplicate = await client.query<{ original_name: string }>(
        `SELECT original_name FROM upload WHERE library_id = $1 AND checksum = $2 AND id <> $3 AND status = 'finished' LIMIT 1`,
        [upload.library_id, item.checksum, upload.id],
      );
      if (duplicate.rows[0]) {
        await client.query(
          `UPDATE upload SET status = 'skipped', checksum = $2, track_id = NULL, error_code = 'duplicate',
             error_message = $3, updated_at = now() WHERE id = $1`,
          [upload.id, item.checksum, duplicateMessage(duplicate.rows[0].original_name)],
        );
        await deleteOrphans(client, upload.track_id ? [upload.track_id] : []);
        return "skipped" as const;
      }
      const soleUploadOf = upload.track_id && (await this.#isSoleUpload(client, upload)) ? upload.track_id : null;
      const trackId = await writeCatalog(client, tags, { coverHash: item.coverHash, soleUploadOf });
      await markFinished(client, [finishedRow(item, trackId)]);
      await enqueueTrackAnalysis(client, [trackId], this.#analysisQueues);
      if (upload.track_id && upload.track_id !== trackId) await deleteOrphans(client, [upload.track_id]);
      await publishUploads(client, "update", [upload]);
      return "finished" as const;
    });
    // A skipped upload's stored copy is only a second copy of bytes we already have.
    if (outcome === "skipped" && upload.storage === "stored") await rm(path.join(this.#mediaDir, upload.path), { force: true });
  }

  async #isSoleUpload(client: pg.PoolClient, upload: PendingUpload): Promise<boolean> {
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM upload WHERE track_id = $1 AND id <> $2",
      [upload.track_id, upload.id],
    );
    return rows[0]!.n === 0;
  }
}

/** After the last retry of an unexpected failure, the uploads say so instead of staying pending forever. */
export async function markImportFailed(pool: pg.Pool, uploadIds: string[], jobId: string): Promise<void> {
  await pool.query(
    `UPDATE upload SET status = 'errored', error_code = 'internal_error', error_message = $2, updated_at = now()
     WHERE id = ANY($1::uuid[]) AND status = 'pending'`,
    [uploadIds, `The import failed on the server (job ${jobId}); an administrator can find the cause in the logs`],
  );
}

class MissingFile extends DomainError {
  constructor() {
    super("The file is no longer on disk; upload it again or rescan the folder", "file_missing");
  }
}
