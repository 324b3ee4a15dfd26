import { randomUUID } from "node:crypto";
import { getLogger } from "../../config/logging.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { Invalid, NotFound } from "../errors.ts";
import type { UploadsService } from "../library/uploads.service.ts";
import { queuedFollowPublisher } from "./follow-publisher.ts";
import { deliveryColumns, deliveryTarget, dropUnfollowedContent, type FollowState, upsertRemoteLibrary } from "./follows.queries.ts";
import type { SigningKey } from "./http-signatures.ts";
import { walkLibraryIndex } from "./library-index.ts";
import type { LibraryLookup } from "./library-lookup.ts";
import type { DomainPolicy } from "../moderation/domain-policy.ts";
import { type RemoteActors, signingKeyOf } from "./remote-actors.ts";
import { fetchDocument, idOf, type JsonObject } from "./remote-documents.ts";

const log = getLogger(["polyphony", "fediverse", "instance-follows"]);

/** How much of another server's index one request reads: the rest waits for the next time it is asked. */
const MAX_INDEX_PAGES = 10;
const MAX_LIBRARIES = 50;

/** One follow of a remote library by our instance actor, as the administration lists it. */
export interface InstanceFollow {
  id: string;
  state: FollowState;
  domain: string;
  createdAt: Date | string;
  library: { id: string; fid: string; name: string; lastScanAt: Date | string | null; tracks: number };
}

/** What following an instance did: the libraries followed (pending until accepted) and those skipped, with why. */
export interface InstanceFollowOutcome {
  domain: string;
  followed: InstanceFollow[];
  skipped: { fid: string; reason: string }[];
}

interface InstanceActor {
  id: string;
  fid: string;
  username: string;
  key: SigningKey;
}

/**
 * Instance follows (issue 17 point 6, Funkwhale 2.0's "pod-level federation"): an administrator names
 * another server and our instance actor follows every public library it lists, so that a new server
 * does not look empty. Discovery reads the server's NodeInfo `metadata.endpoints.libraries`, the public
 * index of public libraries Funkwhale 1.4 and 2.0 publish (/federation/index/libraries) and so do we;
 * each listed library is read again (LibraryLookup) and followed only when public. Accepted libraries
 * are scanned, signed as the instance actor, and every signed-in person here sees them
 * (followedLibrarySql). A person may still follow one too; stopping the instance follow leaves theirs.
 */
export class InstanceFollowsService {
  readonly #db: TransactionSource;
  readonly #actors: RemoteActors;
  readonly #lookup: LibraryLookup;
  readonly #uploads: UploadsService;
  readonly #origin: URL;
  readonly #policy: DomainPolicy | undefined;

  constructor(
    deps: TransactionSource & { remoteActors: RemoteActors; lookup: LibraryLookup; uploads: UploadsService; publicUrl: URL; policy?: DomainPolicy },
  ) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#actors = deps.remoteActors;
    this.#lookup = deps.lookup;
    this.#uploads = deps.uploads;
    this.#origin = deps.publicUrl;
    this.#policy = deps.policy;
  }

  /** Follows the public libraries `input` (a host name, or a URL on it) lists in its index. */
  async follow(input: string): Promise<InstanceFollowOutcome> {
    const domain = this.#domainOf(input);
    // A server we do not federate with (blocked, or not on the allow-list) is not followed: 403.
    await this.#policy?.check(domain);
    const me = await this.#instanceActor();
    const candidates = await this.#discover(domain, me.key);
    const followed: InstanceFollow[] = [];
    const skipped: { fid: string; reason: string }[] = [];
    for (const fid of candidates) {
      try {
        const { preview, speaker } = await this.#lookup.resolve(fid, me.key);
        if (preview.privacy !== "public") {
          skipped.push({ fid, reason: "not public" });
          continue;
        }
        const followId = await withTransaction(this.#db, async ({ sql: tx }) => {
          const libraryId = await upsertRemoteLibrary(tx, preview, speaker.id);
          const { rows } = await tx.query<{ id: string; fid: string }>(
            `INSERT INTO follow (id, fid, follower_id, library_id, state) VALUES ($1, $2, $3, $4, 'pending')
             ON CONFLICT (library_id, follower_id) DO UPDATE
               SET state = CASE WHEN follow.state = 'accepted' THEN 'accepted' ELSE 'pending' END, updated_at = now()
             RETURNING id, fid`,
            [randomUUID(), `${me.fid}#follows/${randomUUID()}`, me.id, libraryId],
          );
          await queuedFollowPublisher(tx).sendFollow(me.username, speaker, { fid: rows[0]!.fid, followerFid: me.fid, objectFid: preview.fid });
          return rows[0]!.id;
        });
        followed.push(...(await this.list(followId)));
      } catch (error) {
        log.info("Instance follow of {library} skipped: {error}", { library: fid, error: String(error) });
        skipped.push({ fid, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    return { domain, followed, skipped };
  }

  /** The instance actor's follows (or just `only`), by domain then library name. */
  async list(only?: string): Promise<InstanceFollow[]> {
    const { rows } = await this.#db.pool.query(
      `SELECT f.id, f.state, f.created_at AS "createdAt", la.domain, l.id AS "libraryId", l.fid AS "libraryFid", l.name,
              l.last_scan_at AS "lastScanAt", (SELECT count(*)::int FROM upload up WHERE up.library_id = l.id) AS tracks
       FROM follow f JOIN actor me ON me.id = f.follower_id AND me.represents = 'instance'
       JOIN library l ON l.id = f.library_id AND l.owner_id IS NULL JOIN actor la ON la.id = l.actor_id
       WHERE $1::uuid IS NULL OR f.id = $1
       ORDER BY la.domain, lower(l.name), f.id`,
      [only ?? null],
    );
    return rows.map((r) => ({
      id: r.id, state: r.state, domain: r.domain, createdAt: r.createdAt,
      library: { id: r.libraryId, fid: r.libraryFid, name: r.name, lastScanAt: r.lastScanAt, tracks: r.tracks },
    }));
  }

  /** Stops one instance follow: Undo(Follow) to its server, and what nobody here follows any more goes. */
  async unfollow(followId: string): Promise<void> {
    await withTransaction(this.#db, async ({ sql: tx }) => {
      const { rows } = await tx.query(
        `SELECT f.fid, f.library_id AS "libraryId", l.fid AS "libraryFid", me.fid AS "meFid", me.username, ${deliveryColumns("la")}
         FROM follow f JOIN actor me ON me.id = f.follower_id AND me.represents = 'instance'
         JOIN library l ON l.id = f.library_id AND l.owner_id IS NULL JOIN actor la ON la.id = l.actor_id
         WHERE f.id = $1 FOR UPDATE OF f`,
        [followId],
      );
      const row = rows[0];
      if (!row) throw new NotFound("instance follow");
      await tx.query("DELETE FROM follow WHERE id = $1", [followId]);
      await dropUnfollowedContent(tx, this.#uploads, row.libraryId);
      await queuedFollowPublisher(tx).sendUndo(row.username, deliveryTarget(row, "la"), {
        fid: row.fid, followerFid: row.meFid, objectFid: row.libraryFid,
      }, `${row.meFid}#undo/${randomUUID()}`);
    });
  }

  /** Stops every instance follow of libraries on `domain`; how many there were. */
  async unfollowDomain(input: string): Promise<number> {
    const domain = this.#domainOf(input);
    const follows = (await this.list()).filter((f) => f.domain === domain);
    for (const follow of follows) await this.unfollow(follow.id);
    return follows.length;
  }

  /** A host name (with its port, lower case) from what the administrator typed: a bare host or a URL on it. */
  #domainOf(input: string): string {
    const text = input.trim().toLowerCase();
    let url: URL | null = null;
    if (/^https?:\/\//.test(text)) url = URL.canParse(text) ? new URL(text) : null;
    else if (/^[a-z0-9][a-z0-9.-]*(:\d{1,5})?$/.test(text) && URL.canParse(`https://${text}/`)) url = new URL(`https://${text}/`);
    if (!url) throw new Invalid(`“${input.trim()}” is not a server name`, undefined, "invalid_domain");
    if (url.host === this.#origin.host) throw new Invalid("This is this server", undefined, "local_domain");
    return url.host;
  }

  /** The libraries `domain`'s index lists (their ids on that host), at most MAX_LIBRARIES. */
  async #discover(domain: string, key: SigningKey): Promise<string[]> {
    const { librariesIndex } = await this.#actors.domains.readNodeInfo(domain);
    if (!librariesIndex) throw new Invalid(`${domain} publishes no index of its public libraries`, undefined, "no_library_index");
    const fids = new Set<string>();
    const onDomain = (id: string | null): id is string => id !== null && new URL(id).host === domain;
    await walkLibraryIndex(librariesIndex, domain, (url) => this.#read(url, key), (item) => {
      const fid = idOf(item);
      if (onDomain(fid)) fids.add(fid);
      return fids.size < MAX_LIBRARIES;
    }, MAX_INDEX_PAGES);
    return [...fids];
  }

  #read(url: string, key: SigningKey): Promise<JsonObject> {
    return fetchDocument(url, { policy: this.#actors.policy, signer: key });
  }

  async #instanceActor(): Promise<InstanceActor> {
    const { rows } = await this.#db.pool.query(
      `SELECT id, fid, username, rsa_private_jwk AS "rsaPrivateJwk" FROM actor WHERE represents = 'instance' AND deleted_at IS NULL`,
    );
    if (!rows[0]) throw new Error("the instance actor is missing");
    return { id: rows[0].id, fid: rows[0].fid, username: rows[0].username, key: signingKeyOf(rows[0]) };
  }
}
