import { KeyObject } from "node:crypto";
import {
  type AuthenticatedDocumentLoaderFactory,
  type DocumentLoader,
  type DocumentLoaderFactory,
  FetchError,
  type KvKey,
  type KvStore,
  kvCache,
  preloadedContexts,
  type RemoteDocument,
} from "@fedify/fedify";
import { signatureHeaders, type SigningKey } from "../../core/fediverse/http-signatures.ts";
import { ACTIVITY_ACCEPT, alternateLink, MAX_DOCUMENT_BYTES } from "../../core/fediverse/remote-documents.ts";
import { type OutboundPolicy, OutboundRefused, safeFetch } from "../../core/fediverse/safe-fetch.ts";
import { FUNKWHALE_CONTEXT, FUNKWHALE_CONTEXT_URL } from "../contexts/funkwhale.ts";

// Fedify's own loaders (actor and key fetches when verifying inbox signatures, getObject, lookupObject,
// JSON-LD contexts) rebuilt on safeFetch: the addresses are checked at connection time on every hop,
// bodies and time are limited, the User-Agent is ours. Their results follow Fedify's getDocumentLoader
// (@fedify/vocab-runtime): { contextUrl, document, documentUrl }, a FetchError carrying the response on
// 4xx/5xx, preloaded contexts served without a request, an alternate document followed.

export interface SafeLoaderOptions {
  policy: OutboundPolicy;
  /** Default MAX_DOCUMENT_BYTES (2 MiB), as our own document fetches. */
  maxBytes?: number;
  /** The whole exchange, redirects included. Default 15 s. */
  timeoutMs?: number;
}

/** The body kept on a FetchError's response (Fedify stores it with a failed key fetch). */
const ERROR_BODY_BYTES = 4096;
/** An HTML page or a non-JSON answer naming its document: followed this many times at most. */
const MAX_ALTERNATES = 2;
const JSON_LD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context";

function mediaType(response: Response): string | null {
  const header = response.headers.get("content-type");
  return header === null ? null : header.split(";")[0]!.trim().toLowerCase();
}

const isActivityType = (type: string | undefined) =>
  type !== undefined && /^application\/(activity\+json|ld\+json)\s*(;|$)/i.test(type);

interface LinkEntry {
  href: string;
  rel: string[];
  type?: string;
}

/** The entries of a Link header (RFC 8288), their targets resolved against the document's URL. */
function linkEntries(header: string | null, base: string): LinkEntry[] {
  if (!header) return [];
  const entries: LinkEntry[] = [];
  for (const [, target, params] of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,=]+(?:=(?:"[^"]*"|[^;,]*))?)*)/g)) {
    if (!URL.canParse(target!, base)) continue;
    const values: Record<string, string> = {};
    for (const [, name, quoted, bare] of params!.matchAll(/;\s*([^;,=\s]+)\s*(?:=\s*(?:"([^"]*)"|([^;,]*)))?/g)) {
      values[name!.toLowerCase()] = (quoted ?? bare ?? "").trim();
    }
    entries.push({ href: new URL(target!, base).href, rel: (values.rel ?? "").split(/\s+/).filter(Boolean), type: values.type });
  }
  return entries;
}

/** A failed answer as Fedify expects it: a FetchError carrying the status, headers and the start of the body. */
async function httpError(response: Response, documentUrl: string): Promise<FetchError> {
  let body = "";
  try {
    const reader = response.body?.getReader();
    const chunks: Uint8Array[] = [];
    let read = 0;
    while (reader && read < ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      read += value.byteLength;
    }
    await reader?.cancel();
    body = Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString("utf8");
  } catch {
    // The status is what matters; a body that cannot be read is left out.
  }
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  headers.delete("content-encoding");
  const kept = new Response(body, { status: response.status, statusText: response.statusText, headers });
  return new FetchError(documentUrl, `HTTP ${response.status}: ${documentUrl}`, kept);
}

function fetchError(url: string, message: string, cause?: unknown): FetchError {
  const error = new FetchError(url, message);
  if (cause !== undefined) error.cause = cause;
  return error;
}

/**
 * A Fedify DocumentLoader on safeFetch: GET with the ActivityPub Accept header, signed on every hop as
 * `signer` when given (authorized fetch). A refusal (private address, too large, timeout...) is a
 * FetchError whose `cause` is the OutboundRefused, already logged by safeFetch.
 */
export function safeDocumentLoader(options: SafeLoaderOptions, signer?: SigningKey): DocumentLoader {
  const { policy } = options;
  const maxBytes = options.maxBytes ?? MAX_DOCUMENT_BYTES;
  const timeoutMs = options.timeoutMs ?? 15_000;

  async function load(url: string, signal: AbortSignal | undefined, alternates: number): Promise<RemoteDocument> {
    signal?.throwIfAborted();
    if (!URL.canParse(url)) throw fetchError(url, `not an absolute URL: ${url}`);
    const href = new URL(url).href;
    // Well-known contexts ship with Fedify, and Funkwhale's with us: never fetched.
    if (href in preloadedContexts) return { contextUrl: null, document: preloadedContexts[href], documentUrl: href };
    if (href === FUNKWHALE_CONTEXT_URL) return { contextUrl: null, document: FUNKWHALE_CONTEXT, documentUrl: href };

    let response: Response;
    try {
      response = await safeFetch(href, {
        policy,
        headers: { accept: ACTIVITY_ACCEPT },
        maxBytes,
        timeoutMs,
        signal,
        ...(signer ? { hopHeaders: (method: string, hop: URL) => signatureHeaders(method, hop, signer) } : {}),
      });
    } catch (error) {
      if (error instanceof OutboundRefused) throw fetchError(href, error.message, error);
      throw error;
    }
    const documentUrl = response.url || href;
    if (!response.ok) throw await httpError(response, documentUrl);

    const type = mediaType(response);
    const jsonLd = type === null || type === "application/activity+json" || type === "application/ld+json";
    const json = jsonLd || type === "application/json" || type!.endsWith("+json");
    const links = linkEntries(response.headers.get("link"), documentUrl);
    const follow = async (alternate: string | null | undefined): Promise<RemoteDocument | null> => {
      if (!alternate || alternate === documentUrl || alternates >= MAX_ALTERNATES) return null;
      if (!response.bodyUsed) await response.body?.cancel();
      return load(alternate, signal, alternates + 1);
    };
    if (!json) {
      const named = await follow(links.find((l) => l.rel.includes("alternate") && isActivityType(l.type))?.href);
      if (named) return named;
    }

    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      if (error instanceof OutboundRefused) throw fetchError(documentUrl, error.message, error);
      throw error;
    }
    if (type === "text/html" || type === "application/xhtml+xml") {
      const named = await follow(alternateLink(text, documentUrl));
      if (named) return named;
      throw fetchError(documentUrl, `${documentUrl} is a web page naming no ActivityPub document`);
    }
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw fetchError(documentUrl, `${documentUrl} answered ${type ?? "no content type"} that is not valid JSON`);
    }
    // A JSON-LD context given by Link header (JSON-LD 1.1 §9.2; Fedify reads it on JSON-LD types too).
    const context = json ? links.find((l) => l.rel.includes(JSON_LD_CONTEXT_REL) && (l.type === undefined || l.type === "application/ld+json")) : undefined;
    return { contextUrl: context?.href ?? null, document, documentUrl };
  }

  return (url, loadOptions) => load(url, loadOptions?.signal, 0);
}

/** Fedify hands its authenticated loaders a CryptoKey; our signer wants the JWK of the same key. */
function signingKeyOf(identity: { keyId: URL; privateKey: CryptoKey }): SigningKey {
  if (identity.privateKey.algorithm.name !== "RSASSA-PKCS1-v1_5") {
    throw new TypeError(`cannot sign with a ${identity.privateKey.algorithm.name} key (RSA only)`);
  }
  return { keyId: identity.keyId.href, privateJwk: KeyObject.from(identity.privateKey).export({ format: "jwk" }) };
}

export interface SafeLoaderFactories {
  documentLoaderFactory: DocumentLoaderFactory;
  contextLoaderFactory: DocumentLoaderFactory;
  authenticatedDocumentLoaderFactory: AuthenticatedDocumentLoaderFactory;
}

/**
 * The three loader factories of createFederation, on safeFetch with `policy` (which decides private
 * addresses and the User-Agent: the options Fedify passes for those are ignored). Unsigned documents and
 * contexts are cached in the KV store as Fedify's own loaders are (kvCache: 5 minutes, same prefix);
 * signed ones are not, since what a server shows depends on who asks.
 */
export function safeLoaderFactories(deps: SafeLoaderOptions & { kv: KvStore; prefix?: KvKey }): SafeLoaderFactories {
  const prefix = deps.prefix ?? (["_fedify", "remoteDocument"] as const);
  const loader = safeDocumentLoader(deps);
  const cached = kvCache({ loader, kv: deps.kv, prefix, kind: "object" });
  const contexts = kvCache({ loader, kv: deps.kv, prefix, kind: "context" });
  return {
    documentLoaderFactory: () => cached,
    contextLoaderFactory: () => contexts,
    authenticatedDocumentLoaderFactory: (identity) => safeDocumentLoader(deps, signingKeyOf(identity)),
  };
}
