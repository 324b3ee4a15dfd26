import { randomUUID } from "node:crypto";
import { getLogger } from "../../config/logging.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import type { UploadsService } from "../library/uploads.service.ts";
import type { SigningKey } from "./http-signatures.ts";
import { InvalidRemoteAudio, parseRemoteAudio, type RemoteAudio } from "./remote-audio.ts";
import { signingKeyOf } from "./remote-actors.ts";
import { applyRemoteAudios, deleteUnlisted, remoteAudioProblem, remoteLibraryRef, type RemoteLibraryRef } from "./remote-catalog.ts";
import { fetchDocument, idOf, type JsonObject, MAX_DOCUMENT_BYTES, RemoteDocumentError } from "./remote-documents.ts";
import { RESCAN_THROTTLE_MS } from "./remote-scans.service.ts";
import { type OutboundPolicy, OutboundRefused } from "./safe-fetch.ts";
import { acceptedFollowersSql } from "./follows.queries.ts";

// The walk of a remote library (../shared/reference/funkwhale-federation.md §2.1, §2.2, §2.4): signed GETs
// as a local follower, of the Library document, its `first` page, then each `next` until there is none;
// `last` and `totalItems` are never trusted. Each page is applied in its own transaction (idempotent, so
// a failed scan leaves whole pages and a rescan redoes nothing twice); uploads whose Audio vanished are
// removed only after a complete walk. Any failure ends the scan `errored` with a reason a person can act on.

const log = getLogger(["polyphony", "fediverse", "remote-scan"]);

/** The hard limits of one scan. Redirects: safeFetch's default, 5 per request. */
export interface RemoteScanLimits {
  /** Pages one scan reads: 1000 of Funkwhale's (and our) 50 items is 50,000 tracks. */
  maxPages: number;
  /** Items one page may list (Funkwhale and we send 50). */
  maxItemsPerPage: number;
  /** Largest document read (fetchDocument's limit, 2 MiB; a page of 50 Audio objects is ~150 KB). */
  maxDocumentBytes: number;
  /** Time for one request, redirects and body included. */
  requestTimeoutMs: number;
  /** Time for the whole scan; what it applied until then stays. */
  scanTimeoutMs: number;
}

export const REMOTE_SCAN_LIMITS: RemoteScanLimits = {
  maxPages: 1000,
  maxItemsPerPage: 200,
  maxDocumentBytes: MAX_DOCUMENT_BYTES,
  requestTimeoutMs: 15_000,
  scanTimeoutMs: 30 * 60_000,
};

/** A scan still `scanning` this long after the scan limit was left behind by a stopped worker. */
const INTERRUPTED_AFTER_MS = 5 * 60_000;
/** Scans kept per library (the latest shows on its page; a few more tell an administrator what happened). */
const SCANS_KEPT = 20;
const INTERRUPTED = "The scan was interrupted (the worker running it stopped); scan again to finish it";
const NO_FOLLOWER = "No one here follows this library with an accepted follow any more; follow it again to scan it";

/** A check of the walk failed: the message is the scan's reason. */
class ScanStopped extends Error {}

export type ScanOutcome =
  | { kind: "gone" | "busy" | "skipped" }
  | { kind: "finished" | "errored"; scanId: string; reason: string | null };

interface Claimed {
  scanId: string;
  library: RemoteLibraryRef;
  signer: SigningKey | null;
  signerName: string | null;
}

interface WalkCounts {
  listed: Set<string>;
  skipped: number;
  firstSkip: string | null;
}

export class RemoteLibraryScanner {
  readonly #db: TransactionSource;
  readonly #policy: OutboundPolicy;
  readonly #uploads: Pick<UploadsService, "deleteVanished">;
  readonly #mediaDir: string | undefined;
  readonly #limits: RemoteScanLimits;

  constructor(
    deps: TransactionSource & {
      policy: OutboundPolicy;
      uploads: Pick<UploadsService, "deleteVanished">;
      mediaDir?: string;
      limits?: Partial<RemoteScanLimits>;
    },
  ) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#policy = deps.policy;
    this.#uploads = deps.uploads;
    this.#mediaDir = deps.mediaDir;
    this.#limits = { ...REMOTE_SCAN_LIMITS, ...deps.limits };
  }

  get limits(): RemoteScanLimits {
    return this.#limits;
  }

  /**
   * Scans remote library `libraryId`: `gone` when it is no remote library, `busy` when another scan of it
   * runs, `skipped` when (without `force`) one finished less than RESCAN_THROTTLE_MS ago.
   */
  async run(libraryId: string, options: { force?: boolean } = {}): Promise<ScanOutcome> {
    const claimed = await this.#claim(libraryId, options.force ?? false);
    if ("kind" in claimed) return claimed;
    const { scanId, library } = claimed;
    const deadline = AbortSignal.timeout(this.#limits.scanTimeoutMs);
    try {
      if (!claimed.signer) throw new ScanStopped(NO_FOLLOWER);
      const walk = await this.#walk(claimed, claimed.signer, deadline);
      const reason = walk.skipped
        ? `${walk.skipped} item${walk.skipped === 1 ? " was" : "s were"} left out, as they could not be read (the first: ${walk.firstSkip})`
        : null;
      await withTransaction(this.#db, async ({ sql: tx }) => {
        const removed = await deleteUnlisted(tx, this.#uploads, library.id, walk.listed);
        await tx.query("UPDATE remote_scan SET status = 'finished', reason = $2, items_removed = $3, finished_at = now() WHERE id = $1", [
          scanId,
          reason,
          removed,
        ]);
        await tx.query("UPDATE library SET last_scan_at = now() WHERE id = $1", [library.id]);
      });
      log.info("Scanned remote library {library}: {listed} items listed", { library: library.fid, listed: walk.listed.size });
      return { kind: "finished", scanId, reason };
    } catch (error) {
      const reason = this.#reasonOf(error, claimed, deadline);
      if (reason === null) log.error("Scan of remote library {library} failed unexpectedly: {error}", { library: library.fid, error });
      else log.warning("Scan of remote library {library} failed: {reason}", { library: library.fid, reason });
      const shown = reason ?? "The scan failed on the server; an administrator can find the cause in the logs";
      await this.#db.pool.query("UPDATE remote_scan SET status = 'errored', reason = $2, finished_at = now() WHERE id = $1", [scanId, shown]);
      return { kind: "errored", scanId, reason: shown };
    }
  }

  /**
   * Takes the library's waiting scan (or starts one) as `scanning`, with the follower whose key signs: the
   * one who asked, while their follow is accepted, else the latest accepted local follower.
   */
  async #claim(libraryId: string, force: boolean): Promise<Claimed | { kind: "gone" | "busy" | "skipped" }> {
    return withTransaction(this.#db, async ({ sql: tx }) => {
      const { rows: libraries } = await tx.query<RemoteLibraryRef>("SELECT id, fid FROM library WHERE id = $1 AND owner_id IS NULL FOR UPDATE", [libraryId]);
      const library = libraries[0];
      if (!library) return { kind: "gone" as const };
      const stale = `${(this.#limits.scanTimeoutMs + INTERRUPTED_AFTER_MS) / 1000} seconds`;
      await tx.query(
        `UPDATE remote_scan SET status = 'errored', reason = $2, finished_at = now()
         WHERE library_id = $1 AND status = 'scanning' AND started_at < now() - $3::interval`,
        [libraryId, INTERRUPTED, stale],
      );
      const running = await tx.query("SELECT 1 FROM remote_scan WHERE library_id = $1 AND status = 'scanning'", [libraryId]);
      if (running.rowCount) return { kind: "busy" as const };
      const { rows: queued } = await tx.query<{ id: string; requested_by_id: string | null }>(
        "SELECT id, requested_by_id FROM remote_scan WHERE library_id = $1 AND status = 'queued' ORDER BY created_at DESC, id",
        [libraryId],
      );
      const recent = force
        ? { rowCount: 0 }
        : await tx.query("SELECT 1 FROM remote_scan WHERE library_id = $1 AND status = 'finished' AND finished_at > now() - $2::interval", [
            libraryId,
            `${RESCAN_THROTTLE_MS / 1000} seconds`,
          ]);
      const [chosen, ...others] = recent.rowCount ? [] : queued;
      const dropped = recent.rowCount ? queued : others;
      if (dropped.length) await tx.query("DELETE FROM remote_scan WHERE id = ANY($1::uuid[])", [dropped.map((r) => r.id)]);
      if (recent.rowCount) return { kind: "skipped" as const };
      await tx.query(
        `DELETE FROM remote_scan WHERE library_id = $1 AND status IN ('finished', 'errored')
           AND id NOT IN (SELECT id FROM remote_scan WHERE library_id = $1 ORDER BY created_at DESC LIMIT $2)`,
        [libraryId, SCANS_KEPT],
      );
      const scanId = chosen?.id ?? randomUUID();
      await tx.query(
        `INSERT INTO remote_scan (id, library_id, status, started_at) VALUES ($1, $2, 'scanning', now())
         ON CONFLICT (id) DO UPDATE SET status = 'scanning', started_at = now()`,
        [scanId, libraryId],
      );
      const { rows: followers } = await tx.query<{ fid: string; rsa_private_jwk: JsonWebKey; username: string }>(
        `SELECT a.fid, a.rsa_private_jwk, coalesce(u.username, a.username) AS username FROM ${acceptedFollowersSql("$1", "local")}
           AND a.rsa_private_jwk IS NOT NULL AND u.disabled_at IS NULL
         ORDER BY (u.id = $2) DESC NULLS LAST, (u.id IS NULL), f.updated_at DESC LIMIT 1`,
        [libraryId, chosen?.requested_by_id ?? null],
      );
      const follower = followers[0];
      return {
        scanId,
        library,
        signer: follower ? signingKeyOf({ fid: follower.fid, rsaPrivateJwk: follower.rsa_private_jwk }) : null,
        signerName: follower?.username ?? null,
      };
    });
  }

  /** Library document -> first -> next...; each page checked, then applied in its own transaction. */
  async #walk(claimed: Claimed, signer: SigningKey, deadline: AbortSignal): Promise<WalkCounts> {
    const { library } = claimed;
    const origin = new URL(library.fid).origin;
    const get = (url: string) =>
      fetchDocument(url, { policy: this.#policy, signer, timeoutMs: this.#limits.requestTimeoutMs, maxBytes: this.#limits.maxDocumentBytes, signal: deadline });
    const root = await get(library.fid);
    if (idOf(root.id) !== library.fid) throw new ScanStopped(`The library's document names another id (${idOf(root.id)}); the library may have moved`);
    if (!["Library", "Collection", "OrderedCollection"].some((type) => typeOf(root).includes(type))) {
      throw new ScanStopped(`${library.fid} is not a library (its type is ${typeOf(root).join(", ") || "missing"})`);
    }
    const walk: WalkCounts = { listed: new Set(), skipped: 0, firstSkip: null };
    // `first` is a URL, or (in some servers' documents) the first page itself.
    let page: JsonObject | null = typeof root.first === "object" && root.first !== null && !Array.isArray(root.first) ? (root.first as JsonObject) : null;
    let url = page ? idOf(page.id) : idOf(root.first);
    if (!url) {
      if (root.first === undefined && root.totalItems === 0) return walk;
      throw new ScanStopped("The library's document names no first page");
    }
    const visited = new Set<string>();
    for (let pages = 0; url; pages++) {
      if (deadline.aborted) throw deadline.reason;
      if (pages >= this.#limits.maxPages) throw new ScanStopped(`The library has more than ${this.#limits.maxPages} pages; the scan stops there`);
      if (!URL.canParse(url) || new URL(url).origin !== origin) throw new ScanStopped(`A page of the library is on another server (${url}); its pages must be on ${origin}`);
      if (visited.has(url)) throw new ScanStopped(`The library's pages loop: ${url} came twice; its server has a bug`);
      visited.add(url);
      page ??= await get(url);
      const audios = this.#readPage(library, url, page, visited, walk);
      await this.#apply(claimed, audios, walk);
      url = idOf(page.next);
      page = null;
    }
    return walk;
  }

  /** A page's checks and items: usable ones returned, unreadable ones counted (their ids still count as listed). */
  #readPage(library: RemoteLibraryRef, url: string, page: JsonObject, visited: Set<string>, walk: WalkCounts): RemoteAudio[] {
    const id = idOf(page.id);
    if (id && new URL(id).origin !== new URL(library.fid).origin) throw new ScanStopped(`The page ${url} names itself on another server (${id})`);
    if (id && id !== url) visited.add(id);
    if (!["CollectionPage", "OrderedCollectionPage"].some((type) => typeOf(page).includes(type))) {
      throw new ScanStopped(`${url} is not a page of a collection (its type is ${typeOf(page).join(", ") || "missing"})`);
    }
    if (idOf(page.partOf) !== library.fid) throw new ScanStopped(`The page ${url} is not part of this library (its partOf is ${idOf(page.partOf)})`);
    const raw = page.items ?? page.orderedItems ?? [];
    const items = Array.isArray(raw) ? raw : [raw];
    if (items.length > this.#limits.maxItemsPerPage) {
      throw new ScanStopped(`The page ${url} lists ${items.length} items, more than the ${this.#limits.maxItemsPerPage} a page may hold`);
    }
    const audios: RemoteAudio[] = [];
    for (const item of items) {
      try {
        const audio = parseRemoteAudio(item);
        const problem = remoteAudioProblem(library, audio);
        if (problem) throw new ScanStopped(`The library lists what is not its own: ${problem}`);
        walk.listed.add(audio.fid);
        audios.push(audio);
      } catch (error) {
        if (!(error instanceof InvalidRemoteAudio)) throw error;
        if (error.fid && new URL(error.fid).origin === new URL(library.fid).origin) walk.listed.add(error.fid);
        walk.skipped++;
        walk.firstSkip ??= `${error.fid ?? "an item"}: ${error.message}`;
      }
    }
    return audios;
  }

  /** One page in one transaction, with the scan's progress. */
  async #apply(claimed: Claimed, audios: RemoteAudio[], walk: WalkCounts): Promise<void> {
    const skippedSoFar = walk.skipped;
    await withTransaction(this.#db, async ({ sql: tx }) => {
      if (!(await remoteLibraryRef(tx, claimed.library.id))) throw new ScanStopped("The library was removed during the scan");
      const counts = await applyRemoteAudios(tx, claimed.library, audios, { mediaDir: this.#mediaDir });
      await tx.query(
        `UPDATE remote_scan SET pages = pages + 1, items_seen = items_seen + $2, items_added = items_added + $3,
           items_updated = items_updated + $4, items_skipped = $5 WHERE id = $1`,
        [claimed.scanId, audios.length, counts.added, counts.updated, skippedSoFar],
      );
    });
  }

  /** The reason shown for a failure; null for an unexpected one (a bug or the database: logged as an error). */
  #reasonOf(error: unknown, claimed: Claimed, deadline: AbortSignal): string | null {
    const limits = this.#limits;
    if (deadline.aborted) return `The scan took longer than ${Math.round(limits.scanTimeoutMs / 60_000)} minutes and was stopped; what it read is kept`;
    if (error instanceof ScanStopped) return error.message;
    if (error instanceof RemoteDocumentError) {
      const { status, url } = error;
      if (status === 401 || status === 403) {
        return `The library refused (HTTP ${status}): is your follow still accepted? (the requests were signed as ${claimed.signerName})`;
      }
      if (status === 404 || status === 410) return `The library's server no longer has ${url} (HTTP ${status}); the library may have been deleted`;
      if (status !== null && status >= 500) return `The library's server failed (HTTP ${status}) at ${url}; try again later`;
      if (status !== null && status >= 400) return `The library's server answered HTTP ${status} at ${url}`;
      return `The library's server ${error.detail} at ${url}`;
    }
    if (error instanceof OutboundRefused) {
      const { url, detail } = error;
      switch (error.reason) {
        case "timeout":
          return `The library's server did not answer ${url} within ${limits.requestTimeoutMs / 1000} seconds; try again later`;
        case "unreachable":
          return `The library's server cannot be reached (${detail}); try again later`;
        case "too-large":
          return `A document of the library is larger than ${limits.maxDocumentBytes / 1024 / 1024} MiB (${url}); it is not read`;
        case "too-many-redirects":
          return `The library's server redirected ${url} too many times (${detail})`;
        case "private-address":
          return `The library's server is at a private address (${detail}), which this server does not reach`;
        default:
          return `The library names an address that cannot be fetched: ${url} (${detail})`;
      }
    }
    return null;
  }
}

const typeOf = (document: JsonObject): string[] =>
  (Array.isArray(document.type) ? document.type : [document.type]).filter((t): t is string => typeof t === "string");
