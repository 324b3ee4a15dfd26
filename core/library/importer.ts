import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { withTransaction } from "../db/transaction.ts";
import { DomainError } from "../errors.ts";
import { FolderCoverFinder, InvalidImage, MAX_COVER_BYTES, processCover } from "../media/artwork.ts";
import type { TrackTags } from "../media/tags.ts";
import { readTags } from "../media/tag-reader.ts";
import { catalogLockKeys, lockKeys, writeCatalog } from "./catalog-writer.ts";
import { deleteOrphans } from "./orphans.ts";

const log = getLogger(["polyphony", "library", "import"]);

interface PendingUpload {
  id: string;
  library_id: string;
  track_id: string | null;
  storage: "stored" | "in_place";
  path: string;
  checksum: string | null;
  status: string;
}

export type ImportOutcome = "finished" | "errored" | "skipped" | "not_pending";

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Imports one pending upload: tags -> cover -> catalog match -> finished; or errored with a reason a
 * person can act on; or skipped when the same bytes are already in the library. Safe to run again
 * after a crash: nothing is committed until the one final transaction.
 */
export class Importer {
  readonly #pool: pg.Pool;
  readonly #mediaDir: string;
  #covers = new FolderCoverFinder();
  #coversSince = Date.now();

  constructor(deps: { pool: pg.Pool; mediaDir: string }) {
    this.#pool = deps.pool;
    this.#mediaDir = deps.mediaDir;
  }

  get coversDir(): string {
    return path.join(this.#mediaDir, "covers");
  }

  async importUpload(uploadId: string): Promise<ImportOutcome> {
    const { rows } = await this.#pool.query<PendingUpload>("SELECT * FROM upload WHERE id = $1", [uploadId]);
    const upload = rows[0];
    if (!upload || upload.status !== "pending") return "not_pending";
    const file = upload.storage === "stored" ? path.join(this.#mediaDir, upload.path) : upload.path;
    try {
      const info = await stat(file).catch(() => null);
      if (!info?.isFile()) throw new MissingFile();
      const tags = await readTags(file);
      const checksum = upload.checksum ?? (await sha256File(file));
      const coverHash = await this.#cover(tags, file);
      return await this.#commit(upload, tags, { checksum, coverHash, size: info.size, mtime: info.mtime });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      await this.#pool.query(
        `UPDATE upload SET status = 'errored', error_code = $2, error_message = $3, updated_at = now()
         WHERE id = $1 AND status = 'pending'`,
        [upload.id, error.code, error.message],
      );
      log.info("Import of upload {uploadId} failed: {reason}", { uploadId, reason: error.message });
      return "errored";
    }
  }

  /** Embedded picture first, else cover/folder/front image beside the file. */
  async #cover(tags: TrackTags, file: string): Promise<string | null> {
    if (tags.picture) return (await processCover(tags.picture.data, this.coversDir)).hash;
    // Folder listings are cached for a bulk import, but not for so long that a new cover.jpg goes unseen.
    if (Date.now() - this.#coversSince > 60_000) {
      this.#covers = new FolderCoverFinder();
      this.#coversSince = Date.now();
    }
    const beside = await this.#covers.find(file);
    if (!beside) return null;
    // Check the size before reading: a "cover.jpg" can be anything.
    const { size } = await stat(beside);
    if (size > MAX_COVER_BYTES) {
      throw new InvalidImage(`${path.basename(beside)} beside the file is too big to be a cover (${Math.round(size / 2 ** 20)} MB)`);
    }
    return (await processCover(await readFile(beside), this.coversDir)).hash;
  }

  async #commit(
    upload: PendingUpload,
    tags: TrackTags,
    file: { checksum: string; coverHash: string | null; size: number; mtime: Date },
  ): Promise<ImportOutcome> {
    const outcome = await withTransaction(this.#pool, async (client) => {
      await lockKeys(client, [`dup:${upload.library_id}:${file.checksum}`, ...catalogLockKeys(tags)]);
      const duplicate = await client.query<{ original_name: string }>(
        `SELECT original_name FROM upload WHERE library_id = $1 AND checksum = $2 AND id <> $3 AND status = 'finished' LIMIT 1`,
        [upload.library_id, file.checksum, upload.id],
      );
      if (duplicate.rows[0]) {
        await client.query(
          `UPDATE upload SET status = 'skipped', checksum = $2, track_id = NULL, error_code = 'duplicate',
             error_message = $3, updated_at = now() WHERE id = $1`,
          [upload.id, file.checksum, `The same file is already in this library as "${duplicate.rows[0].original_name}"`],
        );
        await deleteOrphans(client, upload.track_id ? [upload.track_id] : []);
        return "skipped" as const;
      }
      const soleUploadOf = upload.track_id && (await this.#isSoleUpload(client, upload)) ? upload.track_id : null;
      const trackId = await writeCatalog(client, tags, { coverHash: file.coverHash, soleUploadOf });
      await client.query(
        `UPDATE upload SET status = 'finished', track_id = $2, checksum = $3, size = $4, mtime = $5, mime_type = $6,
           duration_ms = $7, bitrate = $8, sample_rate = $9, bit_depth = $10, channels = $11, codec = $12,
           lossless = $13, replay_gain = $14, lyrics = $15, lyrics_synced = $16, error_code = NULL,
           error_message = NULL, imported_at = now(), updated_at = now() WHERE id = $1`,
        [
          upload.id,
          trackId,
          file.checksum,
          file.size,
          file.mtime,
          tags.mimeType,
          tags.durationSeconds === null ? null : Math.round(tags.durationSeconds * 1000),
          tags.bitrate === null ? null : Math.round(tags.bitrate),
          tags.sampleRate,
          tags.bitDepth,
          tags.channels,
          tags.codec,
          tags.lossless,
          JSON.stringify(tags.replayGain),
          tags.lyrics?.text ?? null,
          tags.lyrics?.synced ?? null,
        ],
      );
      if (upload.track_id && upload.track_id !== trackId) await deleteOrphans(client, [upload.track_id]);
      return "finished" as const;
    });
    // A skipped upload's stored copy is only a second copy of bytes we already have.
    if (outcome === "skipped" && upload.storage === "stored") await rm(path.join(this.#mediaDir, upload.path), { force: true });
    return outcome;
  }

  async #isSoleUpload(client: pg.PoolClient, upload: PendingUpload): Promise<boolean> {
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM upload WHERE track_id = $1 AND id <> $2",
      [upload.track_id, upload.id],
    );
    return rows[0]!.n === 0;
  }
}

/** After the last retry of an unexpected failure, the upload says so instead of staying pending forever. */
export async function markImportFailed(pool: pg.Pool, uploadId: string, jobId: string): Promise<void> {
  await pool.query(
    `UPDATE upload SET status = 'errored', error_code = 'internal_error', error_message = $2, updated_at = now()
     WHERE id = $1 AND status = 'pending'`,
    [uploadId, `The import failed on the server (job ${jobId}); an administrator can find the cause in the logs`],
  );
}

class MissingFile extends DomainError {
  constructor() {
    super("The file is no longer on disk; upload it again or rescan the folder", "file_missing");
  }
}
