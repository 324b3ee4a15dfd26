import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { type RemoteActorServer, startRemoteActorServer } from "../helpers/remote-actor-server.ts";

// What reaches an inbox from another server: signed (with a Digest of the body), by the actor the
// activity names, within size and rate limits. Signatures are checked for real (Fedify's verifier
// reading the sender's key from its actor document, served by the fake server).

let app: TestApp;
let remote: RemoteActorServer;
let bob: { id: string; key: ReturnType<RemoteActorServer["key"]> };
let mallory: typeof bob;
let inbox: string;

const follow = (actor: string) => ({
  "@context": "https://www.w3.org/ns/activitystreams",
  id: `${actor}#follows/${randomUUID()}`,
  type: "Follow",
  actor,
  object: `${app.config.http.publicUrl.origin}/actors/alice`,
});

beforeAll(async () => {
  remote = await startRemoteActorServer();
  [bob, mallory] = ["bob", "mallory"].map((name) => ({ id: remote.actorId(name), key: remote.key(name) })) as [typeof bob, typeof bob];
  app = await startTestApp({ env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true", FEDERATION_REQUESTS_PER_MINUTE: "12", JSON_BODY_LIMIT_KB: "16" } });
  await new TestClient(app.url).signup("alice");
  inbox = `${app.url}/actors/alice/inbox`;
});
afterAll(async () => {
  await app?.close();
  await remote?.close();
});

describe("inbound activities", () => {
  it("accepts an activity signed by its actor", async () => {
    const res = await remote.post(inbox, follow(bob.id), bob.key);
    expect(res.status).toBe(202);
  });

  it("refuses an unsigned one, one signed with another key, and one whose body changed after signing", async () => {
    const unsigned = await fetch(inbox, { method: "POST", headers: { "content-type": "application/activity+json" }, body: JSON.stringify(follow(bob.id)) });
    expect(unsigned.status).toBe(401);
    const forged = await remote.post(inbox, follow(bob.id), { ...bob.key, privateJwk: mallory.key.privateJwk });
    expect(forged.status).toBe(401);
    const tampered = await remote.post(inbox, follow(bob.id), bob.key, { tamper: (body) => body.replace("Follow", "Block") });
    expect(tampered.status).toBe(401);
  });

  it("refuses an activity whose actor is not the signer", async () => {
    const res = await remote.post(inbox, follow(bob.id), mallory.key);
    expect(res.status).toBe(401);
  });

  it("answers 413 to a payload over the limit, before reading it all", async () => {
    const big = { ...follow(bob.id), padding: "x".repeat(20 * 1024) };
    const res = await remote.post(inbox, big, bob.key);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: expect.any(String) } });
  });

  it("limits the requests of one remote domain per minute, with Retry-After", async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 15 && !limited; i++) {
      const res = await remote.post(inbox, follow(bob.id), bob.key);
      if (res.status === 429) limited = res;
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThan(0);
    // Requests not from that domain have budgets of their own; the rest of the server has no such limit.
    const other = await fetch(`${app.url}/actors/alice`, { headers: { accept: "application/activity+json" } });
    expect(other.status).toBe(200);
    const elsewhere = await fetch(`${app.url}/api/v1/health`);
    expect(elsewhere.status).toBe(200);
  });
});
