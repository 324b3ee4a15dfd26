import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { type RemoteActorServer, startRemoteActorServer } from "../helpers/remote-actor-server.ts";
import { waitUntil } from "../helpers/wait.ts";

// A delivery replayed (the same activity id again, as a retrying or hostile server sends it) changes
// nothing: Fedify remembers the ids it has handled, and our listeners are idempotent besides.

let app: TestApp;
let remote: RemoteActorServer;
let library: { id: string; actorId: string };

const followRows = async () =>
  (await app.db.pool.query("SELECT count(*)::int AS n FROM follow WHERE library_id = $1", [library.id])).rows[0].n as number;
const queueIdle = async () =>
  (await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'fedify'")).rows[0].n === 0 || undefined;

beforeAll(async () => {
  remote = await startRemoteActorServer();
  app = await startTestApp({ worker: true, env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
  const alice = new TestClient(app.url);
  await alice.signup("alice");
  library = (await alice.post("/api/v1/libraries", { name: "Asked for", privacy: "private", approveFollows: true })).body;
});
afterAll(async () => {
  await app?.close();
  await remote?.close();
});

describe("a replayed activity", () => {
  it("is handled once: a Follow sent again under the same id does not come back once its follow is gone", async () => {
    const follow = {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${remote.actorId("bob")}#follows/replayed`,
      type: "Follow",
      actor: remote.actorId("bob"),
      object: `${app.config.http.publicUrl.origin}/federation/libraries/${library.id}`,
      to: [library.actorId],
    };
    expect((await remote.post(`${app.url}/inbox`, follow, remote.key("bob"))).status).toBe(202);
    await waitUntil(async () => (await followRows()) === 1 || undefined, { what: "the pending follow" });

    // The owner's side forgets it (as a revoke-and-delete would), then the same delivery comes again.
    await app.db.pool.query("DELETE FROM follow WHERE library_id = $1", [library.id]);
    expect((await remote.post(`${app.url}/inbox`, follow, remote.key("bob"))).status).toBe(202);
    await waitUntil(queueIdle, { what: "the inbox queue to drain" });
    expect(await followRows()).toBe(0);

    // A new Follow (another id) is a new request, handled as such.
    expect((await remote.post(`${app.url}/inbox`, { ...follow, id: `${follow.id}-again` }, remote.key("bob"))).status).toBe(202);
    await waitUntil(async () => (await followRows()) === 1 || undefined, { what: "the second follow" });
  });
});
