import { verifyRequest } from "@fedify/fedify";
import { Follow } from "@fedify/vocab";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphileMessageQueue } from "../../federation/backends/graphile-message-queue.ts";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { startFakeRemote } from "../helpers/fake-remote.ts";
import { waitUntil } from "../helpers/wait.ts";

let app: TestApp;
let remote: Awaited<ReturnType<typeof startFakeRemote>>;
beforeAll(async () => {
  remote = await startFakeRemote();
  app = await startTestApp({ worker: true, env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
  await new TestClient(app.url).signup("alice");
});
afterAll(async () => {
  await app.close();
  await remote.close();
});

describe("outbound delivery through graphile-worker", () => {
  it("queues the activity as a job, and the worker delivers it signed with alice's key", async () => {
    const ctx = app.deps.federation.createContext(new URL(TEST_ORIGIN), undefined);
    const follow = new Follow({
      id: new URL(`${TEST_ORIGIN}/follows/1`),
      actor: ctx.getActorUri("alice"),
      object: new URL(`${remote.origin}/users/bob`),
    });
    await ctx.sendActivity({ identifier: "alice" }, { id: new URL(`${remote.origin}/users/bob`), inboxId: new URL(`${remote.origin}/inbox`) }, follow);

    const delivered = await waitUntil(() => remote.received.find((r) => r.url === "/inbox"));
    expect(delivered.method).toBe("POST");
    expect(JSON.parse(delivered.body)).toMatchObject({ type: "Follow", actor: `${TEST_ORIGIN}/actors/alice` });
    expect(delivered.headers.get("signature")).toContain(`keyId="${TEST_ORIGIN}/actors/alice#main-key"`);

    // An independent check: Fedify's verifier, fetching alice's key from our server.
    const request = new Request(`${remote.origin}/inbox`, { method: "POST", headers: delivered.headers, body: delivered.body });
    const key = await verifyRequest(request, {
      documentLoader: async (url) => {
        const res = await fetch(new URL(new URL(url).pathname, app.url), { headers: { accept: "application/activity+json" } });
        return { contextUrl: null, documentUrl: url, document: await res.json() };
      },
    });
    expect(key?.id?.href).toBe(`${TEST_ORIGIN}/actors/alice#main-key`);

    // The worker deletes the job once the inbox has answered: a moment after the request arrived.
    const jobsLeft = async () => (await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'fedify'")).rows[0].n;
    await waitUntil(async () => (await jobsLeft()) === 0, { what: "the delivery job to be done" });
    expect(await jobsLeft()).toBe(0);
  });
});

describe("GraphileMessageQueue", () => {
  it("maps delays to run_at and ordering keys to a stable queue, and reports depth", async () => {
    const queue = new GraphileMessageQueue(app.db.pool);
    const { Temporal } = await import("@js-temporal/polyfill");
    const delay = Temporal.Duration.from({ hours: 1 }) as unknown as globalThis.Temporal.Duration;
    await queue.enqueue({ type: "test", n: 1 }, { delay, orderingKey: "https://a.example/tracks/1" });
    await queue.enqueue({ type: "test", n: 2 }, { delay, orderingKey: "https://a.example/tracks/1" });
    const { rows } = await app.db.pool.query(
      "SELECT queue_name, run_at > now() + interval '59 minutes' AS later FROM graphile_worker.jobs WHERE task_identifier = 'fedify'",
    );
    expect(rows).toHaveLength(2);
    expect(rows[0].queue_name).toMatch(/^fedify:\d+$/);
    expect(rows[1].queue_name).toBe(rows[0].queue_name);
    expect(rows.every((r) => r.later)).toBe(true);
    expect(await queue.getDepth()).toEqual({ queued: 2, ready: 0, delayed: 2 });
  });
});
