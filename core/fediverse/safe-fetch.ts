import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { Agent, fetch as undiciFetch, type Response as UndiciResponse } from "undici";
import type { AppConfig } from "../../config/env.ts";
import { getLogger } from "../../config/logging.ts";
import { SOFTWARE_NAME, VERSION } from "../../config/version.ts";
import { type AddressClass, classifyAddress } from "./address-policy.ts";

const log = getLogger(["polyphony", "fediverse", "outbound"]);

export type RefusalReason =
  | "bad-url"
  | "bad-scheme"
  | "private-address"
  | "too-many-redirects"
  | "too-large"
  | "timeout"
  | "unreachable";

/**
 * An outbound request we would not make or could not finish. Callers answer 502 (the remote is wrong:
 * private address, redirects, size, bad scheme) or 503/504 (`timeout`, `unreachable`).
 */
export class OutboundRefused extends Error {
  override name = "OutboundRefused";
  readonly reason: RefusalReason;
  readonly url: string;
  readonly detail: string;
  constructor(reason: RefusalReason, url: string, detail: string) {
    super(`Outbound request to ${url} refused (${reason}): ${detail}`);
    this.reason = reason;
    this.url = url;
    this.detail = detail;
  }
}

/** Who we are and what we may reach; the same for every request of one process. */
export interface OutboundPolicy {
  /** Development and tests only: reach loopback and private networks (FEDERATION_ALLOW_PRIVATE_ADDRESS). */
  readonly allowPrivateAddress: boolean;
  readonly userAgent: string;
  /**
   * Names the class of an address that must not be reached (undefined: public). Default `classifyAddress`;
   * tests replace it to let one loopback address stand for the public internet.
   */
  readonly classify?: (address: string) => AddressClass | undefined;
}

export function outboundPolicy(config: Pick<AppConfig, "http" | "federation">): OutboundPolicy {
  return {
    allowPrivateAddress: config.federation.allowPrivateAddress,
    userAgent: `${SOFTWARE_NAME}/${VERSION} (+${config.http.publicUrl.origin}/)`,
  };
}

export interface SafeFetchOptions {
  readonly policy: OutboundPolicy;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
  /** Reading more body than this fails with `too-large`. Default 10 MiB. */
  readonly maxBytes?: number;
  /** Time to open the TCP (and TLS) connection. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Time for the whole exchange, redirects and body reading included. Default 30 s. */
  readonly timeoutMs?: number;
  /** Default 5. */
  readonly maxRedirects?: number;
  readonly signal?: AbortSignal;
  /** Headers made anew for each hop (HTTP signatures, which cover the method, URL and date). */
  readonly hopHeaders?: (method: string, url: URL) => Record<string, string>;
}

const DEFAULTS = { maxBytes: 10 * 1024 * 1024, connectTimeoutMs: 10_000, timeoutMs: 30_000, maxRedirects: 5 };
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NULL_BODY = new Set([101, 204, 205, 304]);
// Credentials meant for one origin must not follow a redirect to another.
const ORIGIN_BOUND_HEADERS = ["authorization", "cookie", "signature", "signature-input"];

function refuse(reason: RefusalReason, url: string, detail: string): OutboundRefused {
  log.warn("Outbound request to {url} refused ({reason}): {detail}", { url, reason, detail });
  return new OutboundRefused(reason, url, detail);
}

function addressDetail(address: string, kind: AddressClass): string {
  return `${address} is not a public address (${kind})`;
}

/**
 * A DNS lookup that resolves every address of the name and fails if any is not public, then hands the
 * connection exactly those checked addresses: the socket connects to what was checked, so a second,
 * rebinding answer can never be used.
 */
function checkingLookup(classify: Classifier): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "", 0);
      for (const { address } of addresses) {
        const kind = classify(address);
        if (kind === undefined) continue;
        // Logged by safeFetch, which knows the whole URL.
        const refusal = new OutboundRefused("private-address", hostname, addressDetail(address, kind));
        return callback(refusal, "", 0);
      }
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

type Classifier = (address: string) => AddressClass | undefined;

// One connection pool per (policy, connect timeout): keep-alive sockets are reused across requests.
const agents = new WeakMap<Classifier, Map<string, Agent>>();
function agentFor(policy: OutboundPolicy, connectTimeoutMs: number): Agent {
  const classify = policy.classify ?? classifyAddress;
  const byKey = agents.get(classify) ?? new Map<string, Agent>();
  agents.set(classify, byKey);
  const key = `${policy.allowPrivateAddress}:${connectTimeoutMs}`;
  let agent = byKey.get(key);
  if (!agent) {
    const connect = policy.allowPrivateAddress
      ? { timeout: connectTimeoutMs }
      : { timeout: connectTimeoutMs, lookup: checkingLookup(classify) };
    agent = new Agent({ connect });
    byKey.set(key, agent);
  }
  return agent;
}

/** Refuses a URL on its face: not http(s), or an IP literal that is not public. Names are checked at lookup. */
function checkTarget(url: URL, policy: OutboundPolicy): void {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw refuse("bad-scheme", url.href, `${url.protocol} is not http or https`);
  }
  if (policy.allowPrivateAddress) return;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (isIP(host) === 0) return;
  const kind = (policy.classify ?? classifyAddress)(host);
  if (kind !== undefined) throw refuse("private-address", url.href, addressDetail(host, kind));
}

function findRefusal(error: unknown): OutboundRefused | undefined {
  for (let e = error; e instanceof Error; e = e.cause) if (e instanceof OutboundRefused) return e;
  return undefined;
}

/** Turns whatever undici or the stream threw into a refusal, except the caller's own abort. */
function asRefusal(error: unknown, url: string, timeout: AbortSignal, caller?: AbortSignal): unknown {
  const found = findRefusal(error);
  if (found) return found.url === url ? found : refuse(found.reason, url, found.detail);
  if (caller?.aborted) return caller.reason;
  const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
  if (timeout.aborted || cause?.code === "UND_ERR_CONNECT_TIMEOUT") {
    return refuse("timeout", url, "no complete answer in time");
  }
  const detail = error instanceof Error ? `${error.message}${cause ? ` (${String(cause.code ?? cause)})` : ""}` : String(error);
  return refuse("unreachable", url, detail);
}

/** The body as a stream that fails with `too-large` past the limit and with a refusal on a timeout. */
function limitedBody(
  response: UndiciResponse,
  url: string,
  maxBytes: number,
  timeout: AbortSignal,
  caller?: AbortSignal,
): ReadableStream<Uint8Array> | null {
  if (!response.body || NULL_BODY.has(response.status)) return null;
  const reader = response.body.getReader();
  let read = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        read += value.byteLength;
        if (read > maxBytes) {
          await reader.cancel();
          return controller.error(refuse("too-large", url, `body exceeds ${maxBytes} bytes`));
        }
        controller.enqueue(value);
      } catch (error) {
        controller.error(asRefusal(error, url, timeout, caller));
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * The one way the server makes an outbound HTTP request. Refuses non-http(s) URLs and, unless the policy
 * allows them, any address inside our network (after DNS resolution, on every redirect hop); follows at
 * most `maxRedirects` redirects itself; limits body size and time. Failures are `OutboundRefused`, logged.
 * The answer is a standard Response (any status: a 404 is the caller's business) whose `url` is the last hop.
 */
export async function safeFetch(input: string | URL, options: SafeFetchOptions): Promise<Response> {
  const { policy } = options;
  const maxBytes = options.maxBytes ?? DEFAULTS.maxBytes;
  const maxRedirects = options.maxRedirects ?? DEFAULTS.maxRedirects;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULTS.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const dispatcher = agentFor(policy, options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs);

  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw refuse("bad-url", String(input), "not an absolute URL");
  }
  let method = (options.method ?? "GET").toUpperCase();
  let body = options.body;
  const headers: Record<string, string> = { "user-agent": policy.userAgent };
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;

  for (let hop = 0; ; hop++) {
    checkTarget(url, policy);
    const hopHeaders = options.hopHeaders?.(method, url) ?? {};
    let response: UndiciResponse;
    try {
      response = await undiciFetch(url, { method, headers: { ...headers, ...hopHeaders }, body, redirect: "manual", signal, dispatcher });
    } catch (error) {
      throw asRefusal(error, url.href, timeout, options.signal);
    }
    const location = response.headers.get("location");
    if (!REDIRECTS.has(response.status) || location === null) {
      const length = Number(response.headers.get("content-length") ?? Number.NaN);
      if (length > maxBytes) {
        await response.body?.cancel();
        throw refuse("too-large", url.href, `Content-Length ${length} exceeds ${maxBytes} bytes`);
      }
      const result = new Response(limitedBody(response, url.href, maxBytes, timeout, options.signal), {
        status: response.status,
        statusText: response.statusText,
        headers: [...response.headers],
      });
      Object.defineProperty(result, "url", { value: url.href });
      return result;
    }
    await response.body?.cancel();
    if (hop >= maxRedirects) throw refuse("too-many-redirects", url.href, `more than ${maxRedirects} redirects`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw refuse("bad-url", url.href, `unparsable redirect Location ${location}`);
    }
    if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
      if (method !== "HEAD") method = "GET";
      body = undefined;
      delete headers["content-type"];
    }
    if (next.origin !== url.origin) for (const name of ORIGIN_BOUND_HEADERS) delete headers[name];
    url = next;
  }
}
