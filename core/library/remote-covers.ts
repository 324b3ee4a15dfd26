/**
 * Covers of remote albums: the scan records where a remote album's cover is (album.cover_source_url,
 * migration 0017); the first time someone who sees the album asks for its cover, the image is fetched
 * through the safe client (signed as them, images only, 10 MiB at most), stored like an imported cover
 * (artwork.ts: every size, content-addressed) and named by album.cover_hash, so every later request is
 * answered from our copy.
 */
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import type { CatalogService } from "../catalog/catalog.service.ts";
import { acceptedFollowersSql } from "../fediverse/follows.queries.ts";
import { signatureHeaders } from "../fediverse/http-signatures.ts";
import { type OutboundPolicy, safeFetch } from "../fediverse/safe-fetch.ts";
import { processCover } from "../media/artwork.ts";
import { userSigningKey } from "./playable-audio.ts";

const log = getLogger(["polyphony", "library", "remote-covers"]);

export const MAX_REMOTE_COVER_BYTES = 10 * 1024 * 1024;
/** After a failed fetch, the album's cover is not asked of its server again for this long (per process). */
const RETRY_AFTER_MS = 10 * 60_000;
const IMAGE_TYPES = /^image\/(jpeg|png|webp|gif|avif)\b/i;

export interface AlbumCoversDeps {
  pool: pg.Pool;
  catalog: Pick<CatalogService, "albumCoverHash">;
  coversDir: string;
  policy: OutboundPolicy;
  timeoutMs: number;
}

export class AlbumCovers {
  readonly #deps: AlbumCoversDeps;
  /** Fetches running now, by album id: parallel requests for one cover share them. */
  readonly #fetching = new Map<string, Promise<string | null>>();
  readonly #failedAt = new Map<string, number>();

  constructor(deps: AlbumCoversDeps) {
    this.#deps = deps;
  }

  /**
   * The cover hash of an album the viewer may see (catalog.albumCoverHash), a remote album's fetched now
   * when we have none yet: undefined when the album is unknown or hidden, null when it has no cover.
   */
  async hashFor(viewerId: string | null, albumId: string): Promise<string | null | undefined> {
    const hash = await this.#deps.catalog.albumCoverHash(viewerId, albumId);
    if (hash !== null || viewerId === null) return hash;
    const failed = this.#failedAt.get(albumId);
    if (failed !== undefined && Date.now() - failed < RETRY_AFTER_MS) return null;
    let fetching = this.#fetching.get(albumId);
    if (!fetching) {
      fetching = this.#fetch(viewerId, albumId).finally(() => this.#fetching.delete(albumId));
      this.#fetching.set(albumId, fetching);
    }
    return fetching;
  }

  async #fetch(viewerId: string, albumId: string): Promise<string | null> {
    // A fetch that finished while this request read the album has stored the hash: it stands.
    const { hash, url } = await this.#sourceOf(albumId);
    if (hash || !url) return hash;
    try {
      const signer = await userSigningKey(this.#deps.pool, viewerId);
      const response = await safeFetch(url, {
        policy: this.#deps.policy,
        headers: { accept: "image/webp, image/jpeg, image/png, image/*;q=0.8" },
        hopHeaders: (method, hop) => signatureHeaders(method, hop, signer),
        maxBytes: MAX_REMOTE_COVER_BYTES,
        connectTimeoutMs: Math.min(5_000, this.#deps.timeoutMs),
        timeoutMs: this.#deps.timeoutMs * 2,
      });
      const type = response.headers.get("content-type") ?? "";
      if (response.status !== 200 || !IMAGE_TYPES.test(type)) {
        await response.body?.cancel();
        throw new Error(response.status !== 200 ? `answered HTTP ${response.status}` : `answered ${type || "no content type"}, not an image`);
      }
      const stored = await processCover(new Uint8Array(await response.arrayBuffer()), this.#deps.coversDir);
      // Another process may have stored it first: the hash it wrote stands (the same image, or as good).
      const { rows } = await this.#deps.pool.query<{ cover_hash: string }>(
        "UPDATE album SET cover_hash = coalesce(cover_hash, $2) WHERE id = $1 RETURNING cover_hash",
        [albumId, stored.hash],
      );
      this.#failedAt.delete(albumId);
      return rows[0]?.cover_hash ?? null;
    } catch (error) {
      this.#failedAt.set(albumId, Date.now());
      log.warning("The cover of remote album {albumId} could not be fetched from {url}: {reason}", {
        albumId,
        url,
        reason: error instanceof Error ? error.message : String(error),
      });
      return null;
    }
  }

  /** A remote album's cover: our copy's hash once we have one, else where to fetch it. */
  async #sourceOf(albumId: string): Promise<{ hash: string | null; url: string | null }> {
    const { rows } = await this.#deps.pool.query<{ cover_hash: string | null; cover_source_url: string | null }>(
      "SELECT cover_hash, cover_source_url FROM album WHERE id = $1 AND fid IS NOT NULL",
      [albumId],
    );
    return { hash: rows[0]?.cover_hash ?? null, url: rows[0]?.cover_source_url ?? null };
  }

  /**
   * After a scan: the covers of the library's remote albums we have no copy of yet, fetched now (as one
   * of its followers here) rather than on first sight, so that album lists, which name covers by hash,
   * show them. At most `limit` a scan, one at a time; the rest come on first request. How many were stored.
   */
  async prefetchForLibrary(libraryId: string, limit = 500): Promise<number> {
    const { rows } = await this.#deps.pool.query<{ album_id: string; user_id: string }>(
      `SELECT a.id AS album_id,
              (SELECT u.id FROM ${acceptedFollowersSql("$1", "local")} AND u.id IS NOT NULL ORDER BY f.updated_at DESC LIMIT 1) AS user_id
       FROM album a
       WHERE a.cover_hash IS NULL AND a.cover_source_url IS NOT NULL AND a.fid IS NOT NULL
         AND EXISTS (SELECT 1 FROM track t JOIN upload up ON up.track_id = t.id WHERE t.album_id = a.id AND up.library_id = $1)
       LIMIT $2`,
      [libraryId, limit],
    );
    let stored = 0;
    for (const row of rows) if (row.user_id && (await this.hashFor(row.user_id, row.album_id))) stored++;
    return stored;
  }
}
