import { Invalid } from "../errors.ts";
import { RemoteDocumentError } from "./remote-documents.ts";
import { type OutboundPolicy, safeFetch } from "./safe-fetch.ts";

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/i;
const AP_TYPE = /^application\/(activity\+json|ld\+json)/i;

const HANDLE = /^@?([^@\s/?#]+)@([^@\s/?#]+)$/;

/**
 * Where a pasted handle or URL points: a URL as it is, a handle (`@name@host`) through WebFinger. What
 * names this server (`ownOrigin`) throws `local()`; input that is neither gets a 400 ending in `hint`
 * ("a link to the library").
 */
export async function pastedTargetUrl(
  input: string,
  options: { ownOrigin: URL; policy: OutboundPolicy; hint: string; local: () => Error },
): Promise<string> {
  if (/^https?:\/\//i.test(input)) {
    if (!URL.canParse(input)) throw new Invalid("This is not a valid URL", undefined, "invalid_target");
    if (new URL(input).origin === options.ownOrigin.origin) throw options.local();
    return new URL(input).href;
  }
  const handle = HANDLE.exec(input);
  if (!handle) throw new Invalid(`Paste a handle such as @name@example.org, or ${options.hint}`, undefined, "invalid_target");
  const [, name, host] = handle as unknown as [string, string, string];
  if (!URL.canParse(`https://${host}/`) || new URL(`https://${host}/`).host !== host.toLowerCase()) {
    throw new Invalid(`“${host}” is not a server name`, undefined, "invalid_target");
  }
  if (host.toLowerCase() === options.ownOrigin.host) throw options.local();
  return webFingerActor(name, host.toLowerCase(), options.policy);
}

/** The scheme of a host's well-known documents: https; http for loopback hosts when private addresses are allowed. */
export function wellKnownScheme(host: string, policy: OutboundPolicy): "http" | "https" {
  return policy.allowPrivateAddress && LOOPBACK_HOSTS.test(host) ? "http" : "https";
}

/**
 * The ActivityPub id `acct:name@host` stands for, read from the host's WebFinger (the link with
 * rel "self" and an ActivityPub type). Over https; over http for loopback hosts when private addresses
 * are allowed (two servers of a test or a developer's machine, which serve no TLS).
 */
export async function webFingerActor(name: string, host: string, policy: OutboundPolicy): Promise<string> {
  const url = new URL(`${wellKnownScheme(host, policy)}://${host}/.well-known/webfinger`);
  url.searchParams.set("resource", `acct:${name}@${host}`);
  const response = await safeFetch(url, {
    policy,
    headers: { accept: "application/jrd+json, application/json" },
    maxBytes: 256 * 1024,
    timeoutMs: 15_000,
  });
  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel();
    throw new Invalid(`${host} has no account named ${name}`, undefined, "unknown_handle");
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new RemoteDocumentError(url.href, response.status, `WebFinger answered HTTP ${response.status}`);
  }
  let jrd: { links?: { rel?: unknown; type?: unknown; href?: unknown }[] };
  try {
    jrd = JSON.parse(await response.text());
  } catch {
    throw new RemoteDocumentError(url.href, response.status, "WebFinger answered invalid JSON");
  }
  const self = (Array.isArray(jrd?.links) ? jrd.links : []).find(
    (link) => link?.rel === "self" && typeof link.type === "string" && AP_TYPE.test(link.type) && typeof link.href === "string",
  );
  const href = self?.href as string | undefined;
  if (!href || !URL.canParse(href) || !/^https?:$/.test(new URL(href).protocol)) {
    throw new RemoteDocumentError(url.href, response.status, `WebFinger names no ActivityPub actor for ${name}@${host}`);
  }
  return href;
}
