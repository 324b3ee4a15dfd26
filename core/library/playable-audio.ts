/**
 * The one "resolve playable audio" step of every stream, download and transcode (REST and Subsonic): after
 * the caller checked the listener may hear the upload, this finds its bytes. A local upload, or a remote one
 * already copied, is a file opened inside its folder. A remote one not copied yet is fetched now, signed as
 * the listener's actor, into the cache (remote-audio-fill.ts): the listener hears the bytes as they arrive,
 * and every later play and range comes from the copy. Concurrent first plays share one download.
 */
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import type { AppConfig } from "../../config/env.ts";
import { NotFound } from "../errors.ts";
import type { SigningKey } from "../fediverse/http-signatures.ts";
import { signingKeyOf } from "../fediverse/remote-actors.ts";
import type { OutboundPolicy } from "../fediverse/safe-fetch.ts";
import { RefusedFile, type OpenFile } from "../media/safe-open.ts";
import { enqueueAnalysisOf } from "../analysis/analysis-queue.ts";
import { AudioFill, type ByteRange, type FillLease } from "./remote-audio-fill.ts";
import { evictCopies, forgetCopy, newCopyPath, recordCopy, removeCopies, touchCopy } from "./remote-cache.ts";
import { openUploadFile, type UploadFileFields } from "./upload-files.ts";

const log = getLogger(["polyphony", "library", "remote-audio"]);

/** Margin over a remote upload's announced size before its download is cut (tags rewritten since the scan). */
const SIZE_MARGIN = (size: number) => Math.max(1024 * 1024, Math.ceil(size / 8));

/** The columns of an upload this needs (a `SELECT u.*` row has them). */
export interface PlayableUpload extends UploadFileFields {
  id: string;
  source_url?: string | null;
  /** bigint: pg hands it over as a string. */
  size: string | number;
  mime_type: string | null;
  original_name: string;
}

/** Bytes to send: a file on disk, or a remote upload's bytes as its first download brings them. */
export type PlayableAudio =
  | { kind: "file"; file: OpenFile; close(): Promise<void> }
  | {
      kind: "arriving";
      /** Bytes the whole file has (the remote's Content-Length, else the size it announced). */
      size: number;
      /** Names the source in the log. */
      label: string;
      read(range: ByteRange): Readable;
      close(): Promise<void>;
    };

export interface PlayableAudioDeps {
  pool: pg.Pool;
  mediaDir: string;
  policy: OutboundPolicy;
  /** REMOTE_CACHE_MAX_MB. */
  cacheMaxBytes: number;
  /** REMOTE_MEDIA_TIMEOUT_SECONDS: first byte, and any silence after it. */
  timeoutMs: number;
  /** No remote file may be larger than this (MAX_UPLOAD_MB: what we would take as an upload). */
  maxFileBytes: number;
  /** ANALYSIS_CONCURRENCY: a copied remote track not analysed yet is queued for analysis (analysis-queue.ts). */
  analysisQueues?: number;
}

export class PlayableAudioService {
  readonly #deps: PlayableAudioDeps;
  /** Downloads running in this process, by upload id. */
  readonly #fills = new Map<string, AudioFill>();

  constructor(deps: PlayableAudioDeps) {
    this.#deps = deps;
  }

  /**
   * The upload's bytes for `listenerId` (who may hear it: the caller checked). `whole`: a file, even for a
   * remote upload not copied yet (its download is waited for; ffmpeg needs a file). NotFound when a local
   * file is gone; RemoteUnavailable when a remote server cannot give its audio.
   */
  async open(upload: PlayableUpload, listenerId: string | null, options: { whole?: boolean } = {}): Promise<PlayableAudio> {
    if (upload.storage !== "remote") return this.#file(await this.#openFile(upload));
    if (upload.cached_path) {
      const copy = await this.#openCopy(upload, upload.cached_path);
      if (copy) return copy;
    }
    // Remote libraries are seen by their followers only: someone signed in asked.
    if (!listenerId || !upload.source_url) throw new NotFound("audio file");
    const lease = await this.#download(upload, upload.source_url, listenerId);
    try {
      const head = await lease.fill.started;
      if (!options.whole) {
        return { kind: "arriving", size: head.size, label: upload.source_url, read: (range) => lease.read(range), close: () => lease.release() };
      }
      const relative = await lease.fill.finished;
      await lease.release();
      const copy = await this.#openCopy(upload, relative);
      if (!copy) throw new NotFound("audio file");
      return copy;
    } catch (error) {
      await lease.release();
      throw error;
    }
  }

  /** Downloads running now (for tests and the log). */
  get downloading(): number {
    return this.#fills.size;
  }

  async #openFile(upload: PlayableUpload): Promise<OpenFile> {
    try {
      return await openUploadFile(this.#deps.mediaDir, upload);
    } catch (error) {
      if (error instanceof RefusedFile) throw new NotFound("audio file");
      throw error;
    }
  }

  #file(file: OpenFile): PlayableAudio {
    return { kind: "file", file, close: () => file.handle.close() };
  }

  /** The copy at `relative`, now counted as used; null (and forgotten) when its file is gone. */
  async #openCopy(upload: PlayableUpload, relative: string): Promise<PlayableAudio | null> {
    try {
      const file = await openUploadFile(this.#deps.mediaDir, { ...upload, cached_path: relative });
      await touchCopy(this.#deps.pool, upload.id, relative);
      return this.#file(file);
    } catch (error) {
      if (!(error instanceof RefusedFile)) throw error;
      log.info("The cached copy of remote upload {uploadId} is gone ({reason}); fetching it again", { uploadId: upload.id, reason: error.message });
      await forgetCopy(this.#deps.pool, upload.id, relative);
      return null;
    }
  }

  /** A lease on this process's download of the upload, started now unless one runs. */
  async #download(upload: PlayableUpload, url: string, listenerId: string): Promise<FillLease> {
    const running = this.#fills.get(upload.id);
    if (running) return running.lease();
    // The listener's Person actor signs the GET: the remote library let that person in, not our server
    // (unless only the instance actor follows it: readerSigningKey).
    const signer = await readerSigningKey(this.#deps.pool, listenerId, upload.id);
    const again = this.#fills.get(upload.id); // started by another request while we read the key
    if (again) return again.lease();
    const { mediaDir, policy, timeoutMs, maxFileBytes } = this.#deps;
    const { relative, part } = newCopyPath(upload);
    const announcedSize = Number(upload.size);
    const fill = new AudioFill({
      uploadId: upload.id,
      url,
      announcedSize,
      maxBytes: announcedSize > 0 ? Math.min(maxFileBytes, announcedSize + SIZE_MARGIN(announcedSize)) : maxFileBytes,
      signer,
      policy,
      timeoutMs,
      partPath: path.join(mediaDir, part),
      keep: (partPath, size) => this.#keep(upload.id, partPath, relative, size),
      onEnd: () => {
        if (this.#fills.get(upload.id) === fill) this.#fills.delete(upload.id);
      },
    });
    this.#fills.set(upload.id, fill);
    return fill.lease();
  }

  /** Moves a complete download into place and records it, then keeps the cache under its cap. */
  async #keep(uploadId: string, partPath: string, relative: string, size: number): Promise<string> {
    const { pool, mediaDir, cacheMaxBytes } = this.#deps;
    await rename(partPath, path.join(mediaDir, relative));
    const { recorded, replaced } = await recordCopy(pool, uploadId, relative, size).catch(async (error: unknown) => {
      await rm(path.join(mediaDir, relative), { force: true });
      throw error;
    });
    if (!recorded) {
      await rm(path.join(mediaDir, relative), { force: true });
      throw new NotFound("upload");
    }
    if (replaced !== relative) await removeCopies(mediaDir, [replaced]);
    // The server holds the bytes now: the track can be analysed (once; a later copy finds its row).
    await enqueueAnalysisOf(
      pool,
      "SELECT u.track_id FROM upload u WHERE u.id = $1 AND NOT EXISTS (SELECT 1 FROM track_analysis ta WHERE ta.track_id = u.track_id)",
      [uploadId],
      this.#deps.analysisQueues ?? 1,
    ).catch((error: unknown) => log.warning("Queuing the analysis of upload {uploadId} failed: {error}", { uploadId, error }));
    await evictCopies(pool, mediaDir, cacheMaxBytes, uploadId).catch((error: unknown) => {
      log.warning("Evicting remote audio copies failed: {error}", { error });
    });
    return relative;
  }

}

/** The key a local user's Person actor signs with (signingKeyOf); NotFound for an unknown user. */
/**
 * The key that signs a listener's fetch of a remote upload: their Person actor's, unless they see its
 * library only through the instance actor's accepted follow (an instance follow, made for everyone
 * here): then the instance actor's, the follower the library's server knows.
 */
export async function readerSigningKey(pool: pg.Pool, userId: string, uploadId: string): Promise<SigningKey> {
  const { rows } = await pool.query<{ fid: string; rsaPrivateJwk: JsonWebKey | null }>(
    `SELECT a.fid, a.rsa_private_jwk AS "rsaPrivateJwk"
     FROM actor a JOIN upload up ON up.id = $2
     WHERE a.represents = 'instance'
       AND EXISTS (SELECT 1 FROM follow f WHERE f.follower_id = a.id AND f.library_id = up.library_id AND f.state = 'accepted')
       AND NOT EXISTS (SELECT 1 FROM follow f JOIN app_user u ON u.actor_id = f.follower_id
                       WHERE u.id = $1 AND f.library_id = up.library_id AND f.state = 'accepted')`,
    [userId, uploadId],
  );
  return rows[0] ? signingKeyOf(rows[0]) : userSigningKey(pool, userId);
}

export async function userSigningKey(pool: pg.Pool, userId: string): Promise<SigningKey> {
  const { rows } = await pool.query<{ fid: string; rsaPrivateJwk: JsonWebKey | null }>(
    `SELECT a.fid, a.rsa_private_jwk AS "rsaPrivateJwk" FROM app_user u JOIN actor a ON a.id = u.actor_id WHERE u.id = $1`,
    [userId],
  );
  if (!rows[0]) throw new NotFound("user");
  return signingKeyOf(rows[0]);
}

export function buildPlayableAudio(config: AppConfig, pool: pg.Pool, policy: OutboundPolicy): PlayableAudioService {
  return new PlayableAudioService({
    pool,
    mediaDir: config.mediaDir,
    policy,
    cacheMaxBytes: config.media.remoteCacheMaxBytes,
    timeoutMs: config.media.remoteTimeoutMs,
    maxFileBytes: config.media.maxUploadBytes,
    analysisQueues: config.analysis.concurrency,
  });
}
