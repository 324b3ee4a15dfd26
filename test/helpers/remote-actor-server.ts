import http from "node:http";
import type { AddressInfo } from "node:net";
import { signatureHeaders, type SigningKey } from "../../core/fediverse/http-signatures.ts";
import { actorKeys } from "./actor-keys.ts";
import type { ReceivedRequest } from "./fake-remote.ts";

export interface RemoteActorServer {
  origin: string;
  /** The actor id of `name`. */
  actorId(name: string): string;
  /** The key `name` signs with (`<actor>#main-key`), whose public half its document publishes. */
  key(name: string): SigningKey;
  /** A POST of `activity` to `url` signed (draft-cavage with Digest) with `key`; `tamper` changes the body after signing. */
  post(url: string, activity: unknown, key: SigningKey, options?: { tamper?: (body: string) => string }): Promise<Response>;
  /** The activities POSTed to its inboxes (personal or shared), parsed, in order of arrival (`received`, read). */
  inbox: { path: string; activity: Record<string, unknown> }[];
  /** How many times its NodeInfo (the 2.0 document) was read. */
  nodeInfoReads(): number;
  /** What reached its inboxes (shared `/inbox` and personal ones), each answered 202. */
  received: ReceivedRequest[];
  close(): Promise<void>;
}

export interface RemoteActorServerOptions {
  /** Serve a NodeInfo naming this software (as Funkwhale does: /.well-known/nodeinfo -> /api/v1/instance/nodeinfo/2.0/). */
  software?: { name: string; version: string };
}

/**
 * Another server's actors, as RemoteActors.resolve reads them (unsigned GET of the actor id): a Person
 * with an RSA key per name, made on first use. Signed requests from them are made in the test with
 * signatureHeaders(method, url, server.key(name)). Reaching it needs FEDERATION_ALLOW_PRIVATE_ADDRESS.
 */
export async function startRemoteActorServer(options: RemoteActorServerOptions = {}): Promise<RemoteActorServer> {
  const keysOf = actorKeys();
  let origin = "";
  let nodeInfoReads = 0;
  const inbox: RemoteActorServer["inbox"] = [];
  const actorId = (name: string) => `${origin}/actors/${name}`;
  const received: ReceivedRequest[] = [];
  const server = http.createServer(async (req, res) => {
    if (req.method === "POST" && /^\/(actors\/[a-z0-9_-]+\/)?inbox$/.test(req.url ?? "")) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = new Headers();
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({ method: "POST", url: req.url!, headers, body });
      inbox.push({ path: req.url!, activity: JSON.parse(body) });
      return void res.writeHead(202).end();
    }
    const json = (body: unknown) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (options.software && req.method === "GET" && req.url === "/.well-known/nodeinfo") {
      return void json({ links: [{ rel: "http://nodeinfo.diaspora.software/ns/schema/2.0", href: `${origin}/api/v1/instance/nodeinfo/2.0/` }] });
    }
    if (options.software && req.method === "GET" && req.url === "/api/v1/instance/nodeinfo/2.0/") {
      nodeInfoReads += 1;
      return void json({ version: "2.0", software: options.software, protocols: ["activitypub"], openRegistrations: false, usage: { users: {} } });
    }
    const name = /^\/actors\/([a-z0-9_-]+)$/.exec(req.url ?? "")?.[1];
    if (req.method !== "GET" || !name) return void res.writeHead(404).end();
    const id = actorId(name);
    res.writeHead(200, { "content-type": "application/activity+json" }).end(JSON.stringify({
      "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
      id,
      type: "Person",
      preferredUsername: name,
      inbox: `${id}/inbox`,
      endpoints: { sharedInbox: `${origin}/inbox` },
      publicKey: { id: `${id}#main-key`, owner: id, publicKeyPem: keysOf(name).publicPem },
    }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    actorId,
    key: (name) => ({ keyId: `${actorId(name)}#main-key`, privateJwk: keysOf(name).privateJwk }),
    post(url, activity, key, options = {}) {
      const body = JSON.stringify(activity);
      const headers = signatureHeaders("POST", new URL(url), key, body);
      return fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/activity+json" }, body: options.tamper?.(body) ?? body });
    },
    inbox,
    nodeInfoReads: () => nodeInfoReads,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
