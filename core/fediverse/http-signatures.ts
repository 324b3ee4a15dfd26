import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";

// draft-cavage HTTP Signatures (rsa-sha256) for our own signed GETs and their verification: Fedify's
// signer and verifier leave the query string out of `(request-target)`, where Funkwhale (and we) put
// it, and library pages and media live at URLs with queries. Inbox POSTs are left to Fedify, but for
// Funkwhale's library activities, which it would drop (server/http/funkwhale-inbox.ts).

/** How far a request's Date may be from our clock (Funkwhale allows 30 s; Mastodon 12 h). */
export const SIGNATURE_MAX_SKEW_MS = 5 * 60_000;

export interface SigningKey {
  /** `<actor id>#main-key`. */
  keyId: string;
  privateJwk: JsonWebKey;
}

const SIGNED_HEADERS = ["(request-target)", "host", "date"];

function signingString(method: string, url: URL, headers: Record<string, string>, names: string[]): string {
  return names
    .map((name) => (name === "(request-target)" ? `(request-target): ${method.toLowerCase()} ${url.pathname}${url.search}` : `${name}: ${headers[name] ?? ""}`))
    .join("\n");
}

const privateKeys = new WeakMap<JsonWebKey, KeyObject>();

/** The headers that sign `method url` (and its body's Digest) as the key's actor. */
export function signatureHeaders(method: string, url: URL, key: SigningKey, body?: string | Uint8Array): Record<string, string> {
  const headers: Record<string, string> = { host: url.host, date: new Date().toUTCString() };
  const names = [...SIGNED_HEADERS];
  if (body !== undefined) {
    headers.digest = `SHA-256=${createHash("sha256").update(body).digest("base64")}`;
    names.push("digest");
  }
  let privateKey = privateKeys.get(key.privateJwk);
  if (!privateKey) privateKeys.set(key.privateJwk, (privateKey = createPrivateKey({ key: key.privateJwk as never, format: "jwk" })));
  const signature = sign("sha256", Buffer.from(signingString(method, url, headers, names)), privateKey).toString("base64");
  headers.signature = `keyId="${key.keyId}",algorithm="rsa-sha256",headers="${names.join(" ")}",signature="${signature}"`;
  return headers;
}

export type VerifiedSignature = { ok: true; keyId: string } | { ok: false; reason: string };

export interface SignedRequest {
  method: string;
  url: URL;
  /** Lower-case names. */
  headers: Record<string, string | undefined>;
}

/** The fields of a Signature header, or null when it is not one. */
export function parseSignatureHeader(header: string): Record<string, string> | null {
  const fields: Record<string, string> = {};
  for (const match of header.matchAll(/([a-zA-Z]+)="([^"]*)"/g)) fields[match[1]!] = match[2]!;
  return fields.keyId && fields.signature ? fields : null;
}

/**
 * Checks a draft-cavage signature over `(request-target)` (with the query), `host` and `date` at least,
 * made with the public key that `publicKeyOf(keyId)` finds (PEM or JWK), and a Date within the allowed skew.
 */
export async function verifySignature(
  request: SignedRequest,
  publicKeyOf: (keyId: string) => Promise<JsonWebKey | string | null>,
  now = Date.now(),
): Promise<VerifiedSignature> {
  const header = request.headers.signature;
  if (!header) return { ok: false, reason: "no Signature header" };
  const fields = parseSignatureHeader(header);
  if (!fields) return { ok: false, reason: "malformed Signature header" };
  const algorithm = fields.algorithm ?? "hs2019";
  if (algorithm !== "rsa-sha256" && algorithm !== "hs2019") return { ok: false, reason: `unsupported algorithm ${algorithm}` };
  const names = (fields.headers ?? "date").toLowerCase().split(/\s+/).filter(Boolean);
  for (const required of SIGNED_HEADERS) if (!names.includes(required)) return { ok: false, reason: `${required} is not signed` };
  const date = Date.parse(request.headers.date ?? "");
  if (!Number.isFinite(date) || Math.abs(now - date) > SIGNATURE_MAX_SKEW_MS) return { ok: false, reason: "Date missing or too far from our clock" };
  const key = await publicKeyOf(fields.keyId!);
  if (!key) return { ok: false, reason: `unknown key ${fields.keyId}` };
  let publicKey: KeyObject;
  try {
    publicKey = typeof key === "string" ? createPublicKey(key) : createPublicKey({ key: key as never, format: "jwk" });
  } catch {
    return { ok: false, reason: `unreadable key ${fields.keyId}` };
  }
  const headers = Object.fromEntries(names.map((name) => [name, request.headers[name] ?? ""]));
  const data = Buffer.from(signingString(request.method, request.url, headers, names));
  const good = verify("sha256", data, publicKey, Buffer.from(fields.signature!, "base64"));
  return good ? { ok: true, keyId: fields.keyId! } : { ok: false, reason: "signature does not match" };
}

/** The actor a key id names: the key id without its fragment (Funkwhale's and Mastodon's rule). */
export function actorOfKeyId(keyId: string): string {
  const url = new URL(keyId);
  url.hash = "";
  return url.href;
}

/** Whether a Digest header (`SHA-256=<base64>`, maybe among others) names the SHA-256 of `body`. */
export function digestMatches(header: string | undefined, body: Uint8Array): boolean {
  const expected = createHash("sha256").update(body).digest("base64");
  return (header ?? "").split(",").some((part) => {
    const at = part.indexOf("=");
    return at > 0 && part.slice(0, at).trim().toLowerCase() === "sha-256" && part.slice(at + 1).trim() === expected;
  });
}
