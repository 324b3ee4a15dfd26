import type pg from "pg";
import { Forbidden, Invalid } from "../errors.ts";

/** `open`: every server but the blocked ones; `allowlist`: only the domains an admin marked allowed (FEDERATION_MODE). */
export type FederationMode = "open" | "allowlist";

/** Why we do not federate with a domain; null when we do. */
export type Refusal = "blocked" | "not_allowed" | null;

/** The 403 a server we do not federate with gets, or a person asking to reach it (its code says why). */
export function refusedError(refusal: Exclude<Refusal, null>, host: string): Forbidden {
  return refusal === "blocked"
    ? new Forbidden(`${host} is blocked on this server`, "domain_blocked")
    : new Forbidden(`This server federates only with the servers its admins allowed; ${host} is not one of them`, "domain_not_allowed");
}

/**
 * A domain as `domain.name` keeps it: a host, lower case, with its port when not the default. Accepts a
 * bare host or a URL (what an admin pastes); anything else is Invalid.
 */
export function domainName(input: string): string {
  const text = input.trim().toLowerCase();
  const isUrl = /^https?:\/\//.test(text);
  const withScheme = isUrl ? text : `https://${text}`;
  const url = URL.canParse(withScheme) ? new URL(withScheme) : null;
  // A bare host must come back unchanged: "a/b" or "user@host" are not domains.
  if (!url || !url.hostname || url.username || url.password || (!isUrl && url.host !== text)) {
    throw new Invalid("Not a domain: give a host name such as music.example.org (with :port when not the default)", undefined, "invalid_domain");
  }
  return url.host;
}

/**
 * Whether we federate with a server, by its domain: the one check every way in and out goes through
 * (inbound requests, by their signature's key and the activity's actor; outbound deliveries, by inbox).
 * One primary-key read of `domain` per question; our own domain is never refused.
 */
export class DomainPolicy {
  readonly #pool: pg.Pool;
  readonly #mode: FederationMode;
  readonly #ownHost: string;

  constructor(deps: { pool: pg.Pool; mode: FederationMode; publicUrl: URL }) {
    this.#pool = deps.pool;
    this.#mode = deps.mode;
    this.#ownHost = deps.publicUrl.host.toLowerCase();
  }

  get mode(): FederationMode {
    return this.#mode;
  }

  /** Why requests from or deliveries to `host` are refused, or null. */
  async refusal(host: string): Promise<Refusal> {
    const name = host.toLowerCase();
    if (name === this.#ownHost) return null;
    const { rows } = await this.#pool.query<{ blocked: boolean; allowed: boolean }>("SELECT blocked, allowed FROM domain WHERE name = $1", [name]);
    if (rows[0]?.blocked) return "blocked";
    if (this.#mode === "allowlist" && !rows[0]?.allowed) return "not_allowed";
    return null;
  }

  /** Throws the 403 when we do not federate with `host`. */
  async check(host: string): Promise<void> {
    const refusal = await this.refusal(host);
    if (refusal) throw refusedError(refusal, host);
  }

  /** The refusal for the server of `url` (an actor id, a key id, an inbox); a string that is no URL is refused. */
  async refusalOfUrl(url: string): Promise<Refusal> {
    if (!URL.canParse(url)) return "blocked";
    return this.refusal(new URL(url).host);
  }
}
