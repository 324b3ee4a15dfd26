import { createPublicKey, randomUUID } from "node:crypto";
import type pg from "pg";
import type { Actor } from "../accounts/actor.entity.ts";
import { actorOfKeyId, type SignedRequest, type SigningKey, verifySignature } from "./http-signatures.ts";
import { DomainSoftware } from "./domains.ts";
import { fetchDocument, idOf, type JsonObject, RemoteDocumentError, stringOf } from "./remote-documents.ts";
import type { OutboundPolicy } from "./safe-fetch.ts";

/** What we keep of an actor, local or remote, to address it and check its signatures. */
export interface KnownActor {
  id: string;
  fid: string;
  type: string;
  username: string;
  domain: string;
  isLocal: boolean;
  name: string | null;
  inboxUrl: string | null;
  sharedInboxUrl: string | null;
  followersUrl: string | null;
  rsaPublicJwk: JsonWebKey | null;
}

const ACTOR_TYPES = new Set(["Person", "Service", "Application", "Group", "Organization"]);
/** A remote actor's document is read again after this long (its keys, inbox or name may change). */
const ACTOR_REFRESH_MS = 12 * 3600_000;

const ACTOR_COLUMNS = `id, fid, type, username, domain, is_local AS "isLocal", name, inbox_url AS "inboxUrl",
  shared_inbox_url AS "sharedInboxUrl", followers_url AS "followersUrl", rsa_public_jwk AS "rsaPublicJwk", updated_at AS "updatedAt"`;

/** The key a local actor signs with: its RSA key, under the id its actor document publishes. */
export function signingKeyOf(actor: Pick<Actor, "fid" | "rsaPrivateJwk">): SigningKey {
  if (!actor.rsaPrivateJwk) throw new Error(`actor ${actor.fid} has no private key`);
  return { keyId: `${actor.fid}#main-key`, privateJwk: actor.rsaPrivateJwk };
}

/** A remote actor document's fields as we store them; throws RemoteDocumentError on a document that is no actor. */
export function parseActorDocument(document: JsonObject, url: string): Omit<KnownActor, "id" | "isLocal"> {
  const fid = idOf(document.id);
  const type = stringOf(document.type);
  const username = stringOf(document.preferredUsername);
  if (!fid || !type || !ACTOR_TYPES.has(type)) throw new RemoteDocumentError(url, 200, "not an actor document");
  const origin = new URL(fid).origin;
  if (origin !== new URL(url).origin) throw new RemoteDocumentError(url, 200, "the actor's id is on another server");
  // Fedify delivers to inboxes with its own client, which checks no address (README, Outbound HTTP): an
  // inbox is kept only on the actor's own server, whose address safeFetch checked when reading it.
  const inboxUrl = idOf(document.inbox);
  if (inboxUrl && new URL(inboxUrl).origin !== origin) throw new RemoteDocumentError(url, 200, "the actor's inbox is on another server");
  const sharedInbox = idOf(((document.endpoints ?? {}) as JsonObject).sharedInbox);
  const key = (Array.isArray(document.publicKey) ? document.publicKey[0] : document.publicKey) as JsonObject | undefined;
  let rsaPublicJwk: JsonWebKey | null = null;
  const pem = stringOf(key?.publicKeyPem);
  if (pem) {
    try {
      rsaPublicJwk = createPublicKey(pem).export({ format: "jwk" }) as JsonWebKey;
    } catch {
      rsaPublicJwk = null;
    }
  }
  return {
    fid,
    type,
    username: username ?? new URL(fid).pathname.split("/").filter(Boolean).pop() ?? fid,
    domain: new URL(fid).host,
    name: stringOf(document.name),
    inboxUrl,
    sharedInboxUrl: sharedInbox && new URL(sharedInbox).origin === origin ? sharedInbox : null,
    followersUrl: idOf(document.followers),
    rsaPublicJwk,
  };
}

/**
 * Remote actors: read once from their documents (unsigned, as every server allows), stored in `actor`,
 * and read again when stale or when a signature fails to verify with the stored key (a rotated key).
 */
export class RemoteActors {
  readonly #pool: pg.Pool;
  readonly #policy: OutboundPolicy;
  /** What the actors' servers run (their NodeInfo), read after an actor is stored. */
  readonly domains: DomainSoftware;

  constructor(deps: { pool: pg.Pool; policy: OutboundPolicy }) {
    this.#pool = deps.pool;
    this.#policy = deps.policy;
    this.domains = new DomainSoftware({ ...deps, resolveActor: (fid) => this.resolve(fid) });
  }

  get policy(): OutboundPolicy {
    return this.#policy;
  }

  /** The stored actor with this id, local or remote; null when unknown. */
  async find(fid: string): Promise<KnownActor | null> {
    const { rows } = await this.#pool.query<KnownActor>(`SELECT ${ACTOR_COLUMNS} FROM actor WHERE fid = $1`, [fid]);
    return rows[0] ?? null;
  }

  /** The actor, from our table when fresh, else fetched and stored. Throws OutboundRefused / RemoteDocumentError. */
  async resolve(fid: string, options: { refresh?: boolean } = {}): Promise<KnownActor> {
    // Timestamps come as text from the ORM's pool.
    const known = await this.#pool.query<KnownActor & { updatedAt: Date | string }>(`SELECT ${ACTOR_COLUMNS} FROM actor WHERE fid = $1`, [fid]);
    const row = known.rows[0];
    if (row && (row.isLocal || (!options.refresh && Date.now() - new Date(row.updatedAt).getTime() < ACTOR_REFRESH_MS))) return row;
    const document = await fetchDocument(fid, { policy: this.#policy });
    return this.store(parseActorDocument(document, fid));
  }

  /** Stores (or refreshes) a remote actor read from its document. */
  async store(actor: Omit<KnownActor, "id" | "isLocal">): Promise<KnownActor> {
    // (domain, username) is unique too: a remote actor renamed under an old name frees it first.
    await this.#pool.query("DELETE FROM actor WHERE domain = $1 AND username = $2 AND fid <> $3 AND NOT is_local AND NOT EXISTS (SELECT 1 FROM follow WHERE follower_id = actor.id)", [
      actor.domain,
      actor.username,
      actor.fid,
    ]);
    const { rows } = await this.#pool.query<KnownActor>(
      `INSERT INTO actor (id, fid, type, username, domain, is_local, name, inbox_url, shared_inbox_url, followers_url, rsa_public_jwk)
       VALUES ($1, $2, $3, $4, $5, false, $6, $7, $8, $9, $10)
       ON CONFLICT (fid) DO UPDATE SET type = EXCLUDED.type, name = EXCLUDED.name, inbox_url = EXCLUDED.inbox_url,
         shared_inbox_url = EXCLUDED.shared_inbox_url, followers_url = EXCLUDED.followers_url,
         rsa_public_jwk = coalesce(EXCLUDED.rsa_public_jwk, actor.rsa_public_jwk), updated_at = now()
         WHERE NOT actor.is_local
       RETURNING ${ACTOR_COLUMNS}`,
      [randomUUID(), actor.fid, actor.type, actor.username, actor.domain, actor.name, actor.inboxUrl, actor.sharedInboxUrl, actor.followersUrl, actor.rsaPublicJwk],
    );
    if (!rows[0]) throw new RemoteDocumentError(actor.fid, 200, "names one of our own actors");
    // Not awaited: the shapes we serve that server depend on it, the caller's request does not.
    void this.domains.recordNodeInfo(actor.domain);
    return rows[0];
  }

  /**
   * The public key of a signature's key id: the stored one, or, when `refresh` (the stored one failed,
   * or none is stored), the actor's document read again. Null when the actor cannot be read.
   */
  async publicKeyOf(keyId: string, refresh = false): Promise<JsonWebKey | null> {
    let actorFid: string;
    try {
      actorFid = actorOfKeyId(keyId);
    } catch {
      return null;
    }
    try {
      const actor = await this.resolve(actorFid, { refresh });
      return actor.rsaPublicJwk;
    } catch {
      return null;
    }
  }

  /**
   * Who signed the request: the actor of its key id when the signature verifies with that actor's key
   * (read again once when the stored key fails: keys rotate). The reason otherwise, for the log.
   */
  async verify(request: SignedRequest): Promise<{ ok: true; actorFid: string } | { ok: false; reason: string }> {
    let result = await verifySignature(request, (keyId) => this.publicKeyOf(keyId));
    if (!result.ok && /does not match|unknown key/.test(result.reason)) {
      result = await verifySignature(request, (keyId) => this.publicKeyOf(keyId, true));
    }
    return result.ok ? { ok: true, actorFid: actorOfKeyId(result.keyId) } : result;
  }
}
