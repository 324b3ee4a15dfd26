import { randomUUID } from "node:crypto";
import { Follow } from "@fedify/vocab";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signatureHeaders } from "../../core/fediverse/http-signatures.ts";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { type RemoteActorServer, startRemoteActorServer } from "../helpers/remote-actor-server.ts";
import { waitUntil } from "../helpers/wait.ts";

// FEDERATION_MODE=allowlist (issue 17 point 5): a private community federates only with the servers its
// admins marked allowed. Two signing test servers: one allowed, one not.

let app: TestApp;
let admin: TestClient;
let alice: TestClient;
let friend: RemoteActorServer;
let stranger: RemoteActorServer;
let library: { id: string; actorId: string };

const collection = () => `${TEST_ORIGIN}/federation/libraries/${library.id}`;
const follow = (server: RemoteActorServer, name: string) => ({
  "@context": "https://www.w3.org/ns/activitystreams",
  id: `${server.actorId(name)}#follows/${randomUUID()}`,
  type: "Follow",
  actor: server.actorId(name),
  object: collection(),
});
const followers = async () => (await alice.get(`/api/v1/libraries/${library.id}/followers`)).body.items.map((f: any) => f.actor.fid);
const jobsLeft = async () => (await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'fedify'")).rows[0].n as number;

beforeAll(async () => {
  [friend, stranger] = await Promise.all([startRemoteActorServer(), startRemoteActorServer()]);
  app = await startTestApp({ worker: true, env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true", FEDERATION_MODE: "allowlist" } });
  [admin, alice] = [new TestClient(app.url), new TestClient(app.url)];
  await admin.signup("operator");
  await alice.signup("alice");
  library = (await alice.post("/api/v1/libraries", { name: "Club shelf", privacy: "public" })).body;
  const res = await admin.request("PUT", `/api/v1/admin/domains/${encodeURIComponent(new URL(friend.origin).host)}`, { json: { allowed: true } });
  expect(res.body).toMatchObject({ allowed: true, blocked: false });
});
afterAll(async () => {
  await app?.close();
  await Promise.all([friend?.close(), stranger?.close()]);
});

describe("allow-list mode", () => {
  it("is shown to admins with the allowed servers", async () => {
    const res = await admin.get("/api/v1/admin/domains");
    expect(res.body).toMatchObject({ mode: "allowlist", items: [{ name: new URL(friend.origin).host, allowed: true }] });
  });

  it("accepts a listed server's follow and refuses an unlisted one's, and its signed reads", async () => {
    expect((await friend.post(`${app.url}/inbox`, follow(friend, "pal"), friend.key("pal"))).status).toBe(202);
    await waitUntil(async () => (await followers()).length === 1, { what: "the allowed follow" });
    const refused = await stranger.post(`${app.url}/inbox`, follow(stranger, "someone"), stranger.key("someone"));
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("domain_not_allowed");
    const url = `${app.url}/federation/libraries/${library.id}`;
    const read = await fetch(url, { headers: { ...signatureHeaders("GET", new URL(url), stranger.key("someone")), accept: "application/activity+json" } });
    expect(read.status).toBe(403);
    await waitUntil(async () => (await jobsLeft()) === 0, { what: "the queue to drain" });
    expect(await followers()).toEqual([friend.actorId("pal")]);
  });

  it("delivers to a listed server only", async () => {
    await waitUntil(() => friend.inbox.some((r) => r.activity.type === "Accept"), { what: "the Accept at the allowed server" });
    const ctx = app.deps.federation.createContext(new URL(TEST_ORIGIN), undefined);
    for (const server of [friend, stranger]) {
      const to = server.actorId("someone");
      await ctx.sendActivity({ identifier: "alice" }, { id: new URL(to), inboxId: new URL(`${to}/inbox`) },
        new Follow({ id: new URL(`${TEST_ORIGIN}/actors/alice#follows/${randomUUID()}`), actor: ctx.getActorUri("alice"), object: new URL(to) }));
    }
    await waitUntil(() => friend.inbox.some((r) => r.activity.type === "Follow"), { what: "the delivery to the allowed server" });
    await waitUntil(async () => (await jobsLeft()) === 0, { what: "the deliveries to be done" });
    expect(stranger.inbox).toEqual([]);
  });

  it("refuses to look up an unlisted server", async () => {
    const res = await alice.post("/api/v1/federation/follows", { target: `@someone@${new URL(stranger.origin).host}` });
    expect([res.status, res.body.error.code]).toEqual([403, "domain_not_allowed"]);
  });

  it("logs allowing and disallowing", async () => {
    const host = new URL(friend.origin).host;
    await admin.request("PUT", `/api/v1/admin/domains/${encodeURIComponent(host)}`, { json: { allowed: false } });
    const log = (await admin.get("/api/v1/admin/moderation-log")).body.items.map((e: any) => [e.action, e.target]);
    expect(log).toEqual([["domain_disallow", host], ["domain_allow", host]]);
    expect((await friend.post(`${app.url}/inbox`, follow(friend, "pal"), friend.key("pal"))).status).toBe(403);
  });
});
