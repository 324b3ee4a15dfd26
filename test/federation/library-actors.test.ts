import { verifyRequest } from "@fedify/fedify";
import { Delete } from "@fedify/vocab";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { startFakeRemote } from "../helpers/fake-remote.ts";
import { waitUntil } from "../helpers/wait.ts";

// A library's actor is what other servers follow: its document must say what the library is now, and
// outlive the library long enough to tell them it is gone.

const AP = "application/activity+json";
let app: TestApp;
let owner: TestClient;
let remote: Awaited<ReturnType<typeof startFakeRemote>>;
beforeAll(async () => {
  remote = await startFakeRemote();
  app = await startTestApp({ env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
  owner = new TestClient(app.url);
  await owner.signup("owner");
});
afterAll(async () => {
  await app.close();
  await remote.close();
});

const actorDocument = (actorId: string) => owner.get(new URL(actorId).pathname, { accept: AP });
const patchLibrary = (id: string, json: object) => owner.request("PATCH", `/api/v1/libraries/${id}`, { json });

describe("library actors", () => {
  it("take the library's new name when it is renamed", async () => {
    const { body: library } = await owner.post("/api/v1/libraries", { name: "Draft" });
    expect((await patchLibrary(library.id, { name: "Final" })).status).toBe(200);
    const actor = await actorDocument(library.actorId);
    expect(actor.body).toMatchObject({ type: "Application", name: "Final" });
  });

  it("publish manuallyApprovesFollowers as the library's approveFollows", async () => {
    const { body: library } = await owner.post("/api/v1/libraries", { name: "Approved", approveFollows: true });
    expect((await actorDocument(library.actorId)).body.manuallyApprovesFollowers).toBe(true);
    await patchLibrary(library.id, { approveFollows: false });
    expect((await actorDocument(library.actorId)).body.manuallyApprovesFollowers).toBe(false);
    await patchLibrary(library.id, { approveFollows: true });
    expect((await actorDocument(library.actorId)).body.manuallyApprovesFollowers).toBe(true);
  });

  it("outlive a deleted library as a Tombstone (410) whose key still signs the Delete", async () => {
    const { body: library } = await owner.post("/api/v1/libraries", { name: "Going away", privacy: "public" });
    // What a follower fetched when it followed, and keeps.
    const cached = (await actorDocument(library.actorId)).body;
    expect((await owner.request("DELETE", `/api/v1/libraries/${library.id}`)).status).toBe(204);

    const gone = await actorDocument(library.actorId);
    expect(gone.status).toBe(410);
    expect(gone.body).toMatchObject({ type: "Tombstone", id: library.actorId, formerType: expect.stringMatching(/Application$/) });
    expect(gone.body).not.toHaveProperty("publicKey");
    // Its inbox is closed: a signed Follow finds no actor.
    const follow = { type: "Follow", id: "https://remote.example/follows/1", actor: "https://remote.example/users/bob", object: library.actorId };
    const inbox = await owner.request("POST", `${new URL(library.actorId).pathname}/inbox`, {
      body: JSON.stringify(follow),
      headers: { "content-type": AP, signature: 'keyId="https://remote.example/users/bob#main-key"' },
    });
    expect(inbox.status).toBe(404);

    const ctx = app.deps.federation.createContext(new URL(TEST_ORIGIN), undefined);
    const identifier = decodeURIComponent(new URL(library.actorId).pathname.split("/").pop()!);
    const actorUri = new URL(library.actorId);
    const follower = { id: new URL(`${remote.origin}/users/bob`), inboxId: new URL(`${remote.origin}/inbox`) };
    const activity = new Delete({ id: new URL(`${library.actorId}#delete`), actor: actorUri, object: actorUri, to: follower.id });
    await ctx.sendActivity({ identifier }, follower, activity, { immediate: true });

    const delivered = await waitUntil(() => remote.received.find((r) => r.url === "/inbox" && r.body.includes('"Delete"')), { what: "the signed Delete" });
    expect(delivered.headers.get("signature")).toContain(`keyId="${library.actorId}#main-key"`);
    const request = new Request(`${remote.origin}/inbox`, { method: "POST", headers: delivered.headers, body: delivered.body });
    const key = await verifyRequest(request, {
      documentLoader: async (url) => ({ contextUrl: null, documentUrl: url, document: cached }),
    });
    expect(key?.id?.href).toBe(`${library.actorId}#main-key`);
  });
});
