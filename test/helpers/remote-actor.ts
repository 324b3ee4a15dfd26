import { createPublicKey } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { generateActorKeys } from "../../core/accounts/key-pairs.ts";
import { signatureHeaders, type SigningKey } from "../../core/fediverse/http-signatures.ts";

export interface FakeActor {
  id: string;
  key: SigningKey;
  publicKeyPem: string;
}

export interface FakeActorServer {
  origin: string;
  /** An actor whose document (with its RSA key) this server answers at /users/<name>. */
  actor(name: string): Promise<FakeActor>;
  /** A POST of `activity` to `url`, signed (draft-cavage with Digest) as `as`. */
  post(url: string, activity: unknown, as: FakeActor, options?: { tamper?: (body: string) => string }): Promise<Response>;
  close(): Promise<void>;
}

/** Another server's actors, for inbound tests: their documents are served here, their requests signed here. */
export async function startFakeActorServer(): Promise<FakeActorServer> {
  const documents = new Map<string, object>();
  const server = http.createServer((req, res) => {
    const document = documents.get(req.url ?? "");
    if (!document) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/activity+json" }).end(JSON.stringify(document));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    async actor(name) {
      const keys = await generateActorKeys();
      const id = `${origin}/users/${name}`;
      const publicKeyPem = createPublicKey({ key: keys.rsaPublicJwk as never, format: "jwk" }).export({ type: "spki", format: "pem" }).toString();
      documents.set(`/users/${name}`, {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        id,
        type: "Person",
        preferredUsername: name,
        inbox: `${id}/inbox`,
        endpoints: { sharedInbox: `${origin}/inbox` },
        followers: `${id}/followers`,
        publicKey: { id: `${id}#main-key`, owner: id, publicKeyPem },
      });
      return { id, key: { keyId: `${id}#main-key`, privateJwk: keys.rsaPrivateJwk }, publicKeyPem };
    },
    async post(url, activity, as, options = {}) {
      const body = JSON.stringify(activity);
      const headers = signatureHeaders("POST", new URL(url), as.key, body);
      const sent = options.tamper ? options.tamper(body) : body;
      return fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/activity+json" }, body: sent });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
