import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type Worker } from "../../workers/main.ts";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { type RemoteActorServer, startRemoteActorServer } from "../helpers/remote-actor-server.ts";
import { waitUntil } from "../helpers/wait.ts";

// What was already queued when a server got blocked (issue 17 point 5): the web process takes activities
// into the queue and the worker runs them later, so the block is checked again when the worker gets there.
// The worker starts only after the block here, so the order is certain.

let app: TestApp;
let worker: Worker | undefined;
let remote: RemoteActorServer;
let library: { id: string };

beforeAll(async () => {
  remote = await startRemoteActorServer();
  app = await startTestApp({ env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
  const admin = new TestClient(app.url);
  await admin.signup("operator");
  library = (await admin.post("/api/v1/libraries", { name: "Shelf", privacy: "public" })).body;
});
afterAll(async () => {
  await worker?.stop();
  await app?.close();
  await remote?.close();
});

const jobsLeft = async () => (await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'fedify'")).rows[0].n as number;

describe("a block with work still queued", () => {
  it("drops the blocked server's activities received before it, and our deliveries to it queued before it", async () => {
    const mallory = remote.actorId("mallory");
    const follow = { "@context": "https://www.w3.org/ns/activitystreams", id: `${mallory}#follows/${randomUUID()}`, type: "Follow", actor: mallory, object: `${TEST_ORIGIN}/federation/libraries/${library.id}` };
    expect((await remote.post(`${app.url}/inbox`, follow, remote.key("mallory"))).status).toBe(202);
    const ctx = app.deps.federation.createContext(new URL(TEST_ORIGIN), undefined);
    const { Follow } = await import("@fedify/vocab");
    await ctx.sendActivity({ identifier: "operator" }, { id: new URL(mallory), inboxId: new URL(`${mallory}/inbox`) },
      new Follow({ id: new URL(`${TEST_ORIGIN}/actors/operator#follows/${randomUUID()}`), actor: ctx.getActorUri("operator"), object: new URL(mallory) }));
    expect(await jobsLeft()).toBe(2);

    const admin = new TestClient(app.url);
    await admin.login("operator");
    expect((await admin.request("PUT", `/api/v1/admin/domains/${encodeURIComponent(new URL(remote.origin).host)}`, { json: { blocked: true } })).status).toBe(200);
    worker = await startWorker(app.config, app.db);
    await waitUntil(async () => (await jobsLeft()) === 0, { what: "the queue to drain" });
    expect((await app.db.pool.query("SELECT count(*)::int AS n FROM follow")).rows[0].n).toBe(0);
    expect(remote.inbox).toEqual([]);
  });
});
