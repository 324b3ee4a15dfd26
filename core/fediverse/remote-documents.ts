import { signatureHeaders, type SigningKey } from "./http-signatures.ts";
import { type OutboundPolicy, OutboundRefused, safeFetch } from "./safe-fetch.ts";

/** The Accept of every ActivityPub fetch: a bare activity+json first (Funkwhale redirects others to HTML). */
export const ACTIVITY_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"';
/** A document larger than this is refused (a library page of 50 full Audio objects is ~150 KB). */
export const MAX_DOCUMENT_BYTES = 2 * 1024 * 1024;

export type JsonObject = Record<string, unknown>;

/** A remote server answered, but not with a document we can use (its status, type or shape). */
export class RemoteDocumentError extends Error {
  override name = "RemoteDocumentError";
  readonly url: string;
  readonly status: number | null;
  readonly detail: string;
  constructor(url: string, status: number | null, detail: string) {
    super(`${url}: ${detail}`);
    this.url = url;
    this.status = status;
    this.detail = detail;
  }
}

export interface FetchDocumentOptions {
  policy: OutboundPolicy;
  /** Signs every hop as this actor (authorized fetch); unsigned without. */
  signer?: SigningKey;
  timeoutMs?: number;
  maxBytes?: number;
  /** A web page naming its document in `<link rel="alternate">` is followed once (a pasted page URL). */
  followAlternate?: boolean;
  signal?: AbortSignal;
}

const JSON_TYPES = /^application\/(activity\+json|ld\+json|json|jrd\+json)\b/i;

/**
 * GETs an ActivityPub document through safeFetch (SSRF checks, size and time limits), signed on every
 * hop when a signer is given. Any failure is an OutboundRefused (could not reach) or a
 * RemoteDocumentError (reached, but no usable JSON object), each with the reason to show.
 */
export async function fetchDocument(url: string, options: FetchDocumentOptions): Promise<JsonObject> {
  const { signer } = options;
  const response = await safeFetch(url, {
    policy: options.policy,
    headers: { accept: ACTIVITY_ACCEPT },
    maxBytes: options.maxBytes ?? MAX_DOCUMENT_BYTES,
    timeoutMs: options.timeoutMs ?? 15_000,
    signal: options.signal,
    ...(signer ? { hopHeaders: (method: string, hop: URL) => signatureHeaders(method, hop, signer) } : {}),
  });
  const type = response.headers.get("content-type") ?? "";
  if (options.followAlternate && response.ok && /^text\/html/i.test(type)) {
    const alternate = alternateLink(await response.text(), response.url);
    if (!alternate) throw new RemoteDocumentError(response.url, response.status, "the page names no ActivityPub document");
    return fetchDocument(alternate, { ...options, followAlternate: false });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new RemoteDocumentError(response.url, response.status, `answered HTTP ${response.status}`);
  }
  if (!JSON_TYPES.test(type)) {
    await response.body?.cancel();
    throw new RemoteDocumentError(response.url, response.status, `answered ${type || "no content type"}, not JSON`);
  }
  let document: unknown;
  try {
    document = JSON.parse(await response.text());
  } catch (error) {
    if (error instanceof OutboundRefused) throw error;
    throw new RemoteDocumentError(response.url, response.status, "answered invalid JSON");
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new RemoteDocumentError(response.url, response.status, "answered JSON that is not an object");
  }
  return document as JsonObject;
}

/** The first `<link rel="alternate">` of a page's head with an ActivityPub type (or none given), absolute. */
export function alternateLink(html: string, base: string): string | null {
  const head = html.slice(0, 64 * 1024);
  for (const [tag] of head.matchAll(/<link\b[^>]*>/gi)) {
    const attribute = (name: string) => tag.match(new RegExp(`\\b${name}\\s*=\\s*["']([^"']*)["']`, "i"))?.[1];
    if (!attribute("rel")?.split(/\s+/).includes("alternate")) continue;
    const type = attribute("type");
    if (type && !/activity\+json|ld\+json/i.test(type)) continue;
    const href = attribute("href");
    if (href && URL.canParse(href, base)) return new URL(href.replaceAll("&amp;", "&"), base).href;
  }
  return null;
}

/** A string property, or the `id` of an embedded object, or null. */
export function idOf(value: unknown): string | null {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first === "string") return URL.canParse(first) ? first : null;
  if (typeof first === "object" && first !== null) return idOf((first as JsonObject).id);
  return null;
}

/** A plain string property (the first of a list, the `@value` of a language map), or null. */
export function stringOf(value: unknown): string | null {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first === "string") return first;
  if (typeof first === "object" && first !== null && typeof (first as JsonObject)["@value"] === "string") return (first as JsonObject)["@value"] as string;
  return null;
}
