import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Federation } from "@fedify/fedify";
import { FetchError } from "@fedify/fedify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyAddress } from "../../core/fediverse/address-policy.ts";
import { signatureHeaders, type SigningKey } from "../../core/fediverse/http-signatures.ts";
import { type OutboundPolicy, OutboundRefused, outboundPolicy } from "../../core/fediverse/safe-fetch.ts";
import { GraphileMessageQueue } from "../../federation/backends/graphile-message-queue.ts";
import { PostgresKvStore } from "../../federation/backends/postgres-kv-store.ts";
import { safeDocumentLoader } from "../../federation/backends/safe-document-loader.ts";
import { buildFederation } from "../../federation/index.ts";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { actorKeys } from "../helpers/actor-keys.ts";

// Fedify's own fetches (the signer's key when an inbox POST arrives, getObject...) go through safeFetch:
// with FEDERATION_ALLOW_PRIVATE_ADDRESS off (the default), a keyId on a private address, or redirecting
// to one, or an oversize actor document, leaves the request unverified (401) and nothing reaches the
// address. A local server records every request it gets.

interface Recorder {
  origin: string;
  seen: { path: string; headers: http.IncomingHttpHeaders }[];
  key(name: string, path?: string): SigningKey;
  close(): Promise<void>;
}

const HUGE = 3 * 1024 * 1024;

/**
 * Another server on `host`: /actors/<name> is a Person with an RSA key; /moved/<name>?to=<url> redirects;
 * /huge/<name> is a Person padded past 2 MiB (with a Content-Length), /stream/<name> the same chunked.
 */
async function startRecorder(host: string): Promise<Recorder> {
  const keysOf = actorKeys();
  const seen: Recorder["seen"] = [];
  let origin = "";
  const actor = (path: string, name: string, padding = "") =>
    JSON.stringify({
      "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
      id: `${origin}${path}`,
      type: "Person",
      preferredUsername: name,
      inbox: `${origin}${path}/inbox`,
      publicKey: { id: `${origin}${path}#main-key`, owner: `${origin}${path}`, publicKeyPem: keysOf(name).publicPem },
      ...(padding ? { summary: padding } : {}),
    });
  const server = http.createServer((req, res) => {
    seen.push({ path: req.url!, headers: req.headers });
    const url = new URL(req.url!, origin);
    const [, kind, name] = url.pathname.split("/");
    const json = { "content-type": "application/activity+json" };
    if (kind === "actors" && name) return void res.writeHead(200, json).end(actor(url.pathname, name));
    if (kind === "moved") return void res.writeHead(302, { location: url.searchParams.get("to")! }).end();
    if (kind === "huge" && name) {
      const body = actor(url.pathname, name, "x".repeat(HUGE));
      return void res.writeHead(200, { ...json, "content-length": Buffer.byteLength(body) }).end(body);
    }
    if (kind === "stream" && name) {
      res.writeHead(200, json);
      const body = actor(url.pathname, name, "x".repeat(HUGE));
      for (let i = 0; i < body.length; i += 64 * 1024) res.write(body.slice(i, i + 64 * 1024));
      return void res.end();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    seen,
    key: (name, path = `/actors/${name}`) => ({ keyId: `${origin}${path}#main-key`, privateJwk: keysOf(name).privateJwk }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let app: TestApp;
let remote: Recorder;
/** On 127.0.0.2: another loopback address, which no policy here treats as public. */
let inside: Recorder;

beforeAll(async () => {
  remote = await startRecorder("127.0.0.1");
  inside = await startRecorder("127.0.0.2");
  app = await startTestApp();
  expect(app.config.federation.allowPrivateAddress).toBe(false);
  await new TestClient(app.url).signup("alice");
});
afterAll(async () => {
  await app?.close();
  await remote?.close();
  await inside?.close();
});

/** A POST to `inbox` of a Follow of alice by the key's actor, signed (draft-cavage with Digest). */
function signedFollow(inbox: string, key: SigningKey): Request {
  const actor = key.keyId.replace(/#main-key$/, "");
  const body = JSON.stringify({
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${actor}#follows/${randomUUID()}`,
    type: "Follow",
    actor,
    object: `${TEST_ORIGIN}/actors/alice`,
  });
  const headers = signatureHeaders("POST", new URL(inbox), key, body);
  return new Request(inbox, {
    method: "POST",
    headers: { ...headers, "content-type": "application/activity+json" },
    body,
  });
}

const seenBy = (recorder: Recorder, name: string) => recorder.seen.filter((s) => s.path.includes(`/${name}`));

describe("with FEDERATION_ALLOW_PRIVATE_ADDRESS off, over real HTTP", () => {
  for (const inbox of ["/actors/alice/inbox", "/inbox"]) {
    it(`answers 401 to a POST on ${inbox} whose keyId is on a loopback address, which is never asked`, async () => {
      const name = `loop${randomUUID().slice(0, 8)}`;
      const res = await fetch(signedFollow(`${app.url}${inbox}`, remote.key(name)));
      expect(res.status).toBe(401);
      expect(seenBy(remote, name)).toEqual([]);
    });
  }

  it("answers 401 to keyIds on the metadata address, a private network and IPv6 loopback, at once", async () => {
    for (const host of ["169.254.169.254", "10.1.2.3", "192.168.0.10", "[::1]"]) {
      const key = { keyId: `http://${host}/actors/eve#main-key`, privateJwk: remote.key("eve").privateJwk };
      const started = Date.now();
      const res = await fetch(signedFollow(`${app.url}/inbox`, key));
      expect(res.status, host).toBe(401);
      // Refused before connecting: no connect timeout was waited for.
      expect(Date.now() - started, host).toBeLessThan(5000);
    }
  });
});

describe("with 127.0.0.1 playing a public server (the loaders' policy, otherwise the default)", () => {
  let federation: Federation<void>;
  const policy = (): OutboundPolicy => ({
    ...outboundPolicy(app.config),
    classify: (address) => (address === "127.0.0.1" ? undefined : classifyAddress(address)),
  });
  const post = (inbox: string, key: SigningKey) => federation.fetch(signedFollow(`${TEST_ORIGIN}${inbox}`, key), { contextData: undefined });

  beforeAll(() => {
    federation = buildFederation({
      config: app.config,
      orm: app.db.orm,
      pool: app.db.pool,
      kv: new PostgresKvStore(app.db),
      queue: new GraphileMessageQueue(app.db.pool),
      policy: policy(),
    });
  });

  it("verifies a signature whose key it reached: the key is fetched with our User-Agent, signed as the recipient", async () => {
    const res = await post("/actors/alice/inbox", remote.key("bob"));
    expect(res.status).toBe(202);
    const [fetched] = seenBy(remote, "bob");
    expect(fetched?.headers["user-agent"]).toMatch(/^polyphony\/\S+ \(\+http:\/\/polyphony\.test\/\)$/);
    expect(fetched?.headers.accept).toContain("application/activity+json");
    // A personal inbox loads documents as its owner (Fedify's authenticated loader): signed by alice.
    expect(fetched?.headers.signature).toContain(`keyId="${TEST_ORIGIN}/actors/alice#main-key"`);
  });

  it("refuses a keyId that redirects to a loopback address or the metadata address, after the redirect", async () => {
    for (const inbox of ["/actors/alice/inbox", "/inbox"]) {
      const target = `${inside.origin}/actors/carol`;
      const name = `moved${randomUUID().slice(0, 8)}`;
      const key = remote.key(name, `/moved/${name}?to=${encodeURIComponent(target)}`);
      const res = await post(inbox, key);
      expect(res.status, inbox).toBe(401);
      expect(seenBy(remote, name), inbox).toHaveLength(1);
      const metadata = remote.key(`${name}m`, `/moved/${name}m?to=${encodeURIComponent("http://169.254.169.254/latest/meta-data/")}`);
      expect((await post(inbox, metadata)).status, inbox).toBe(401);
      expect(seenBy(remote, `${name}m`), inbox).toHaveLength(1);
    }
    expect(inside.seen).toEqual([]);
  });

  it("refuses an actor document over 2 MiB, announced by its Content-Length or not", async () => {
    for (const kind of ["huge", "stream"]) {
      const name = `${kind}${randomUUID().slice(0, 8)}`;
      const res = await post("/inbox", remote.key(name, `/${kind}/${name}`));
      expect(res.status, kind).toBe(401);
      expect(seenBy(remote, name), kind).toHaveLength(1);
    }
  });
});

describe("safeDocumentLoader", () => {
  let server: http.Server;
  let origin: string;
  const policy = (): OutboundPolicy => ({ ...outboundPolicy(app.config), classify: (a) => (a === "127.0.0.1" ? undefined : classifyAddress(a)) });
  const requests: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests.push(req.url!);
      const doc = (id: string) => JSON.stringify({ "@context": "https://www.w3.org/ns/activitystreams", id: `${origin}${id}`, type: "Note" });
      switch (req.url) {
        case "/note":
          return void res.writeHead(200, { "content-type": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"' }).end(doc("/note"));
        case "/plain":
          return void res
            .writeHead(200, { "content-type": "application/json", link: '<https://www.w3.org/ns/activitystreams>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"' })
            .end(JSON.stringify({ id: `${origin}/plain`, type: "Note" }));
        case "/page":
          return void res.writeHead(200, { "content-type": "text/html" }).end(`<html><head><link rel="alternate" type="application/activity+json" href="/note"></head></html>`);
        case "/gone":
          return void res.writeHead(410, { "content-type": "application/activity+json" }).end(JSON.stringify({ type: "Tombstone" }));
        case "/hop":
          return void res.writeHead(301, { location: "/note" }).end();
        default:
          return void res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("serves Fedify's preloaded contexts without a request", async () => {
    const load = safeDocumentLoader({ policy: { ...policy(), classify: () => "loopback" } });
    const loaded = await load("https://www.w3.org/ns/activitystreams");
    expect(loaded.documentUrl).toBe("https://www.w3.org/ns/activitystreams");
    expect(loaded.document).toHaveProperty("@context");
  });

  it("loads JSON-LD, follows redirects to the final URL, reads a context Link on plain JSON, follows an HTML page's alternate", async () => {
    const load = safeDocumentLoader({ policy: policy() });
    expect(await load(`${origin}/hop`)).toMatchObject({ documentUrl: `${origin}/note`, contextUrl: null, document: { type: "Note" } });
    expect(await load(`${origin}/plain`)).toMatchObject({ contextUrl: "https://www.w3.org/ns/activitystreams", document: { id: `${origin}/plain` } });
    expect(await load(`${origin}/page`)).toMatchObject({ documentUrl: `${origin}/note`, document: { type: "Note" } });
  });

  it("throws a FetchError carrying the response on 4xx, and one caused by the refusal on a private address", async () => {
    const load = safeDocumentLoader({ policy: policy() });
    const gone = await load(`${origin}/gone`).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(FetchError);
    expect((gone as FetchError).response?.status).toBe(410);
    const before = requests.length;
    const refused = await safeDocumentLoader({ policy: outboundPolicy(app.config) })(`${origin}/note`).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FetchError);
    expect((refused as FetchError).cause).toBeInstanceOf(OutboundRefused);
    expect(((refused as FetchError).cause as OutboundRefused).reason).toBe("private-address");
    expect(requests.length).toBe(before);
  });
});
