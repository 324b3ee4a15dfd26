import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { MAX_DOCUMENT_BYTES, type JsonObject, RemoteDocumentError } from "./remote-documents.ts";
import { type OutboundPolicy, safeFetch } from "./safe-fetch.ts";
import { wellKnownScheme } from "./webfinger-lookup.ts";

const log = getLogger(["polyphony", "fediverse", "domains"]);

/** A server's NodeInfo is read at most this often (per process, failures included). */
const NODEINFO_INTERVAL_MS = 24 * 3600_000;
const NODEINFO_SCHEMAS = ["http://nodeinfo.diaspora.software/ns/schema/2.1", "http://nodeinfo.diaspora.software/ns/schema/2.0"];

export interface SoftwareInfo {
  name: string;
  version: string | null;
}

/** What a server's NodeInfo tells us: its software, and its service actor (metadata.actorId), if any. */
export interface NodeInfoFacts {
  software: SoftwareInfo;
  serviceActorFid: string | null;
  /**
   * Its public index of public libraries (metadata.endpoints.libraries: Funkwhale's
   * /federation/index/libraries, and ours), on its own host; null when it names none.
   */
  librariesIndex: string | null;
}

/** How an Audio's `duration` is written: integer seconds (Funkwhale 1.x, and ours) or xsd:duration (Funkwhale 2.0). */
export interface AudioShape {
  durationAs: "seconds" | "iso";
}
export const DEFAULT_AUDIO_SHAPE: AudioShape = { durationAs: "seconds" };

/** The shape a server reads: Funkwhale >= 2 wants "PT3M48S" and rejects integers; everyone else gets integers. */
export function audioShapeFor(software: SoftwareInfo | null): AudioShape {
  if (software?.name.toLowerCase() !== "funkwhale") return DEFAULT_AUDIO_SHAPE;
  const major = Number(/^v?(\d+)/.exec(software.version ?? "")?.[1] ?? 0);
  return { durationAs: major >= 2 ? "iso" : "seconds" };
}

/** The shape for the actor who signed a request (null: unsigned), by what its domain runs. */
export async function audioShapeOfActor(pool: pg.Pool, actorId: string | null): Promise<AudioShape> {
  if (!actorId) return DEFAULT_AUDIO_SHAPE;
  const { rows } = await pool.query<SoftwareInfo>(
    `SELECT d.software_name AS name, d.software_version AS version
       FROM actor a JOIN domain d ON d.name = a.domain
      WHERE a.id = $1 AND NOT a.is_local AND d.software_name IS NOT NULL`,
    [actorId],
  );
  return audioShapeFor(rows[0] ?? null);
}

/**
 * What the servers we know run, from their NodeInfo, kept in `domain`. Read when one of their actors is
 * stored, at most once a day per server, never in the path of a request: failures are only logged.
 */
export class DomainSoftware {
  readonly #pool: pg.Pool;
  readonly #policy: OutboundPolicy;
  /** When each host's NodeInfo was last asked for by this process. */
  readonly #asked = new Map<string, number>();
  /** Reads and stores a remote actor, returning its row id (RemoteActors.resolve). */
  readonly #resolveActor: ((fid: string) => Promise<{ id: string }>) | null;

  constructor(deps: { pool: pg.Pool; policy: OutboundPolicy; resolveActor?: (fid: string) => Promise<{ id: string }> }) {
    this.#pool = deps.pool;
    this.#policy = deps.policy;
    this.#resolveActor = deps.resolveActor ?? null;
  }

  /** The software `host` runs, as last recorded; null when unknown. */
  async softwareOf(host: string): Promise<SoftwareInfo | null> {
    const { rows } = await this.#pool.query<SoftwareInfo>(
      "SELECT software_name AS name, software_version AS version FROM domain WHERE name = $1 AND software_name IS NOT NULL",
      [host.toLowerCase()],
    );
    return rows[0] ?? null;
  }

  /** Reads and records `host`'s NodeInfo unless done within a day. Never throws: a failure is logged at debug. */
  async recordNodeInfo(host: string): Promise<void> {
    const name = host.toLowerCase();
    const asked = this.#asked.get(name);
    if (asked !== undefined && Date.now() - asked < NODEINFO_INTERVAL_MS) return;
    this.#asked.set(name, Date.now());
    try {
      const fresh = await this.#pool.query(
        "SELECT 1 FROM domain WHERE name = $1 AND software_name IS NOT NULL AND last_seen_at > now() - interval '24 hours'",
        [name],
      );
      if (fresh.rowCount) return;
      const { software, serviceActorFid } = await this.#fetchNodeInfo(name);
      const serviceActor = serviceActorFid ? await this.#serviceActorId(serviceActorFid) : null;
      await this.#pool.query(
        `INSERT INTO domain (name, software_name, software_version, service_actor_id, last_seen_at) VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (name) DO UPDATE SET software_name = EXCLUDED.software_name,
           software_version = EXCLUDED.software_version, service_actor_id = EXCLUDED.service_actor_id, last_seen_at = now()`,
        [name, software.name, software.version, serviceActor],
      );
    } catch (error) {
      log.debug("Could not read the NodeInfo of {host}: {error}", { host: name, error: String(error) });
    }
  }

  /** Reads `host`'s NodeInfo now, whatever was recorded. Throws OutboundRefused / RemoteDocumentError. */
  readNodeInfo(host: string): Promise<NodeInfoFacts> {
    return this.#fetchNodeInfo(host.toLowerCase());
  }

  /**
   * The row of the service actor a NodeInfo names (Funkwhale's metadata.actorId), read and stored: the
   * one actor besides an object's attributedTo that may update that server's catalog objects. Null when
   * it cannot be read (the actor's server then speaks only through attributedTo).
   */
  async #serviceActorId(fid: string): Promise<string | null> {
    if (!this.#resolveActor) return null;
    try {
      return (await this.#resolveActor(fid)).id;
    } catch (error) {
      log.debug("Could not read the service actor {fid}: {error}", { fid, error: String(error) });
      return null;
    }
  }

  /** The well-known document, then the 2.1 (else 2.0) NodeInfo it links to. */
  async #fetchNodeInfo(host: string): Promise<NodeInfoFacts> {
    const wellKnown = `${wellKnownScheme(host, this.#policy)}://${host}/.well-known/nodeinfo`;
    const index = await this.#getJson(wellKnown);
    const links = Array.isArray(index.links) ? (index.links as JsonObject[]) : [];
    const link = NODEINFO_SCHEMAS.map((rel) => links.find((l) => l?.rel === rel)).find(Boolean);
    const href = typeof link?.href === "string" && URL.canParse(link.href, wellKnown) ? new URL(link.href, wellKnown) : null;
    if (!href || !/^https?:$/.test(href.protocol)) throw new RemoteDocumentError(wellKnown, 200, "names no NodeInfo 2.0 or 2.1");
    const nodeInfo = await this.#getJson(href.href);
    const software = (nodeInfo.software ?? {}) as JsonObject;
    if (typeof software.name !== "string" || !software.name) throw new RemoteDocumentError(href.href, 200, "NodeInfo names no software");
    const metadata = (nodeInfo.metadata ?? {}) as JsonObject;
    // Only an actor (or a document) of that server itself speaks for it.
    const onHost = (value: unknown) => {
      const url = typeof value === "string" && URL.canParse(value) ? new URL(value) : null;
      return url && url.host.toLowerCase() === host && /^https?:$/.test(url.protocol) ? url.href : null;
    };
    return {
      software: { name: software.name.toLowerCase(), version: typeof software.version === "string" ? software.version : null },
      serviceActorFid: onHost(metadata.actorId),
      librariesIndex: onHost(((metadata.endpoints ?? {}) as JsonObject).libraries),
    };
  }

  async #getJson(url: string): Promise<JsonObject> {
    const response = await safeFetch(url, {
      policy: this.#policy,
      headers: { accept: "application/json" },
      maxBytes: MAX_DOCUMENT_BYTES,
      timeoutMs: 15_000,
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new RemoteDocumentError(response.url, response.status, `answered HTTP ${response.status}`);
    }
    let document: unknown;
    try {
      document = JSON.parse(await response.text());
    } catch {
      throw new RemoteDocumentError(response.url, response.status, "answered invalid JSON");
    }
    if (typeof document !== "object" || document === null || Array.isArray(document)) {
      throw new RemoteDocumentError(response.url, response.status, "answered JSON that is not an object");
    }
    return document as JsonObject;
  }
}
