import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PUBLISH_TASK } from "../../core/fediverse/library-publications.ts";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { startFakeRemote } from "../helpers/fake-remote.ts";
import { waitForImports } from "../helpers/imports.ts";
import { freePort } from "../helpers/ports.ts";
import { waitUntil } from "../helpers/wait.ts";

// Live sync, outbound: what happens to a followed library is delivered to its followers' inboxes by
// the worker, from jobs queued in the transactions that made the changes.

let app: TestApp;
let remote: Awaited<ReturnType<typeof startFakeRemote>>;
let alice: TestClient;
let dir: string;
let followed: { id: string; actorId: string };
let quiet: { id: string };

const publishJobs = async () =>
  (await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = $1", [PUBLISH_TASK])).rows[0].n as number;
const inboxActivities = () => remote.received.filter((r) => r.url === "/inbox").map((r) => ({ body: JSON.parse(r.body), headers: r.headers }));

beforeAll(async () => {
  if (!hasFfmpeg()) return;
  remote = await startFakeRemote();
  app = await startTestApp({ worker: true, env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
  alice = new TestClient(app.url);
  await alice.signup("alice");
  followed = (await alice.post("/api/v1/libraries", { name: "Shared", privacy: "private" })).body;
  quiet = (await alice.post("/api/v1/libraries", { name: "Nobody follows" })).body;
  // A follower on another server whose follow was accepted (the follow flow itself is tested elsewhere).
  const actorId = randomUUID();
  await app.db.pool.query(
    `INSERT INTO actor (id, fid, type, username, domain, is_local, inbox_url, shared_inbox_url)
     VALUES ($1, $2, 'Person', 'bob', $3, false, $4, $5)`,
    [actorId, `${remote.origin}/users/bob`, new URL(remote.origin).host, `${remote.origin}/users/bob/inbox`, `${remote.origin}/inbox`],
  );
  await app.db.pool.query(
    "INSERT INTO follow (id, fid, follower_id, library_id, state) VALUES ($1, $2, $3, $4, 'accepted')",
    [randomUUID(), `${remote.origin}/users/bob#follows/1`, actorId, followed.id],
  );
  // And one on a server that is gone (nothing listens on its port): it must not hold up the others.
  const deadId = randomUUID();
  const dead = `http://127.0.0.1:${await freePort()}`;
  await app.db.pool.query(
    `INSERT INTO actor (id, fid, type, username, domain, is_local, inbox_url, shared_inbox_url)
     VALUES ($1, $2, 'Person', 'ghost', $3, false, $4, $5)`,
    [deadId, `${dead}/users/ghost`, new URL(dead).host, `${dead}/users/ghost/inbox`, `${dead}/inbox`],
  );
  await app.db.pool.query(
    "INSERT INTO follow (id, fid, follower_id, library_id, state) VALUES ($1, $2, $3, $4, 'accepted')",
    [randomUUID(), `${dead}/users/ghost#follows/1`, deadId, followed.id],
  );
  dir = await mkdtemp(path.join(os.tmpdir(), "polyphony-publish-"));
}, 120_000);
afterAll(async () => {
  await app?.close();
  await remote?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!hasFfmpeg())("a followed library's changes reach its followers", () => {
  let uploadId: string;

  it("delivers Create(Audio), signed by the library's actor, once to the shared inbox, after an import (a dead follower's server holds nothing up)", async () => {
    const file = await makeAudio(dir, { name: "one", format: "mp3", tags: { TITLE: "One", ARTIST: "Band", ALBUM: "Record" } });
    const res = await alice.upload(`/api/v1/libraries/${followed.id}/uploads`, [{ name: "one.mp3", data: await readFile(file) }]);
    expect(res.status).toBe(201);
    await waitForImports(app.db.pool, followed.id);
    uploadId = (await app.db.pool.query("SELECT id FROM upload WHERE library_id = $1", [followed.id])).rows[0].id;

    const create = await waitUntil(() => inboxActivities().find((a) => a.body.type === "Create"), { what: "the Create" });
    expect(create.body).toMatchObject({
      type: "Create",
      actor: followed.actorId,
      object: { type: "Audio", id: `${TEST_ORIGIN}/federation/uploads/${uploadId}` },
      to: `${followed.actorId}/followers`,
    });
    expect(create.headers.get("signature")).toContain(`keyId="${followed.actorId}#main-key"`);
    // The personal inbox is not used when a shared one is known.
    expect(remote.received.filter((r) => r.url === "/users/bob/inbox")).toHaveLength(0);
    // The delivery to the dead server failed and waits for its retry (with backoff), on its own.
    const retries = await waitUntil(async () => {
      const { rows } = await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'fedify' AND run_at > now()");
      return rows[0].n > 0 ? rows[0].n : undefined;
    }, { what: "the dead server's retry" });
    expect(retries).toBeGreaterThan(0);
  });

  it("queues nothing for a library without followers", async () => {
    const before = remote.received.length;
    const file = await makeAudio(dir, { name: "two", format: "ogg", tags: { TITLE: "Two", ARTIST: "Band" } });
    await alice.upload(`/api/v1/libraries/${quiet.id}/uploads`, [{ name: "two.ogg", data: await readFile(file) }]);
    await waitForImports(app.db.pool, quiet.id);
    expect(await publishJobs()).toBe(0);
    expect(remote.received.length).toBe(before);
  });

  it("delivers Update(Library) when the name changes, but not for a setting followers never see", async () => {
    await alice.request("PATCH", `/api/v1/libraries/${followed.id}`, { json: { approveFollows: false } });
    await alice.request("PATCH", `/api/v1/libraries/${followed.id}`, { json: { name: "Shared with friends" } });
    const update = await waitUntil(() => inboxActivities().find((a) => a.body.type === "Update"), { what: "the Update" });
    expect(update.body.object).toMatchObject({ id: `${TEST_ORIGIN}/federation/libraries/${followed.id}`, name: "Shared with friends" });
    expect(inboxActivities().filter((a) => a.body.type === "Update")).toHaveLength(1);
  });

  it("delivers Delete(Audio) when an upload is deleted", async () => {
    expect((await alice.request("DELETE", `/api/v1/uploads/${uploadId}`)).status).toBe(204);
    const del = await waitUntil(() => inboxActivities().find((a) => a.body.type === "Delete"), { what: "the Delete" });
    expect(del.body.object).toMatchObject({ type: "Audio", id: `${TEST_ORIGIN}/federation/uploads/${uploadId}` });
  });

  it("delivers Delete(Library), signed by the library's tombstoned actor, when the library is deleted", async () => {
    expect((await alice.request("DELETE", `/api/v1/libraries/${followed.id}`)).status).toBe(204);
    const del = await waitUntil(
      () => inboxActivities().find((a) => a.body.type === "Delete" && a.body.object?.id === `${TEST_ORIGIN}/federation/libraries/${followed.id}`),
      { what: "the Delete(Library)" },
    );
    expect(del.headers.get("signature")).toContain(`keyId="${followed.actorId}#main-key"`);
    expect((await app.db.pool.query("SELECT count(*)::int AS n FROM follow")).rows[0].n).toBe(0);
  });
});
