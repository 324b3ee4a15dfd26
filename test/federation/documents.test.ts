import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";

const AP = "application/activity+json";
let app: TestApp;
let client: TestClient;
beforeAll(async () => {
  app = await startTestApp();
  client = new TestClient(app.url);
  await client.signup("alice");
});
afterAll(() => app.close());

describe("WebFinger", () => {
  it("resolves acct:alice@host to her actor", async () => {
    const res = await client.get("/.well-known/webfinger?resource=acct:alice@polyphony.test");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/jrd\+json/);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.body.subject).toBe("acct:alice@polyphony.test");
    expect(res.body.aliases).toEqual([`${TEST_ORIGIN}/actors/alice`]);
    expect(res.body.links).toContainEqual({ rel: "self", href: `${TEST_ORIGIN}/actors/alice`, type: AP });
  });

  it("resolves the instance actor by acct:host@host", async () => {
    const res = await client.get("/.well-known/webfinger?resource=acct:polyphony.test@polyphony.test");
    expect(res.status).toBe(200);
    expect(res.body.links).toContainEqual({ rel: "self", href: `${TEST_ORIGIN}/actors/instance`, type: AP });
  });

  it("answers 404 for unknown accounts and other hosts, 400 without a resource", async () => {
    expect((await client.get("/.well-known/webfinger?resource=acct:nobody@polyphony.test")).status).toBe(404);
    expect((await client.get("/.well-known/webfinger?resource=acct:alice@elsewhere.example")).status).toBe(404);
    expect((await client.get("/.well-known/webfinger")).status).toBe(400);
  });
});

describe("actor documents", () => {
  it("serves alice as a Person with RSA and Ed25519 keys", async () => {
    const res = await client.get("/actors/alice", { accept: AP });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/activity\+json/);
    const actor = JSON.parse(typeof res.body === "string" ? res.body : JSON.stringify(res.body));
    expect(actor["@context"]).toEqual(expect.arrayContaining(["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]));
    expect(actor).toMatchObject({
      id: `${TEST_ORIGIN}/actors/alice`,
      type: "Person",
      preferredUsername: "alice",
      name: "alice",
      inbox: `${TEST_ORIGIN}/actors/alice/inbox`,
      outbox: `${TEST_ORIGIN}/actors/alice/outbox`,
      followers: `${TEST_ORIGIN}/actors/alice/followers`,
      endpoints: { sharedInbox: `${TEST_ORIGIN}/inbox` },
      manuallyApprovesFollowers: true,
    });
    expect(actor.publicKey).toMatchObject({ id: `${TEST_ORIGIN}/actors/alice#main-key`, owner: actor.id, type: "CryptographicKey" });
    expect(actor.publicKey.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(actor.assertionMethod).toHaveLength(2);
    expect(actor.assertionMethod[1]).toMatchObject({ type: "Multikey", controller: actor.id });
    expect(actor.assertionMethod[1].publicKeyMultibase).toMatch(/^z6Mk/); // Ed25519
    // The stored public JWK is the key published here.
    const { rows } = await app.db.pool.query("SELECT rsa_public_jwk FROM actor WHERE username = 'alice'");
    const pem = await crypto.subtle.importKey("jwk", rows[0].rsa_public_jwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["verify"]);
    const spki = Buffer.from(await crypto.subtle.exportKey("spki", pem)).toString("base64");
    expect(actor.publicKey.publicKeyPem.replace(/-----[^-]+-----|\n/g, "")).toBe(spki);
  });

  it("serves the instance actor as a Service", async () => {
    const res = await client.get("/actors/instance", { accept: AP });
    const actor = JSON.parse(typeof res.body === "string" ? res.body : JSON.stringify(res.body));
    expect(actor).toMatchObject({ id: `${TEST_ORIGIN}/actors/instance`, type: "Service", preferredUsername: "instance" });
    expect(actor.publicKey.publicKeyPem).toContain("BEGIN PUBLIC KEY");
  });

  it("answers 404 for unknown actors and passes HTML requests on", async () => {
    expect((await client.get("/actors/nobody", { accept: AP })).status).toBe(404);
    const html = await client.get("/actors/alice", { accept: "text/html" });
    expect(html.headers.get("content-type") ?? "").not.toMatch(/activity\+json/);
  });

  it("serves empty followers and outbox collections", async () => {
    const followers = await client.get("/actors/alice/followers", { accept: AP });
    expect(followers.status).toBe(200);
    const body = JSON.parse(typeof followers.body === "string" ? followers.body : JSON.stringify(followers.body));
    expect(body).toMatchObject({ type: "OrderedCollection", totalItems: 0 });
  });
});

describe("inbox", () => {
  it("refuses unsigned activities with 401", async () => {
    const res = await client.request("POST", "/actors/alice/inbox", {
      body: JSON.stringify({
        "@context": "https://www.w3.org/ns/activitystreams",
        id: "https://evil.example/follows/1",
        type: "Follow",
        actor: "https://evil.example/users/mallory",
        object: `${TEST_ORIGIN}/actors/alice`,
      }),
      headers: { "content-type": AP },
    });
    expect(res.status).toBe(401);
  });
});

describe("NodeInfo", () => {
  it("links 2.0 and 2.1 from /.well-known/nodeinfo", async () => {
    const res = await client.get("/.well-known/nodeinfo");
    expect(res.body).toEqual({
      links: [
        { rel: "http://nodeinfo.diaspora.software/ns/schema/2.0", href: `${TEST_ORIGIN}/nodeinfo/2.0` },
        { rel: "http://nodeinfo.diaspora.software/ns/schema/2.1", href: `${TEST_ORIGIN}/nodeinfo/2.1` },
      ],
    });
  });

  it.each(["2.0", "2.1"])("serves a %s document naming the instance actor", async (version) => {
    const res = await client.get(`/nodeinfo/${version}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain(`ns/schema/${version}#`);
    expect(res.body).toMatchObject({
      version,
      software: { name: "polyphony", version: "0.1.0" },
      protocols: ["activitypub"],
      openRegistrations: true,
      usage: { users: { total: 1, activeMonth: 1, activeHalfyear: 1 }, localPosts: 0 },
      metadata: { nodeName: "polyphony.test", actorId: `${TEST_ORIGIN}/actors/instance` },
    });
    if (version === "2.0") expect(res.body.software).not.toHaveProperty("repository");
  });
});
