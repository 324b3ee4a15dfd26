import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signatureHeaders, type SigningKey } from "../../core/fediverse/http-signatures.ts";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks, type SeededTrack } from "../helpers/factories.ts";
import { startRemoteActorServer, type RemoteActorServer } from "../helpers/remote-actor-server.ts";
import { sleep, waitUntil } from "../helpers/wait.ts";

// The Audio documents we serve take the duration form the reader's server accepts, by its NodeInfo:
// Funkwhale 2.0 rejects an integer and reads an xsd:duration ("PT3M48S"); 1.4 rejects strings; anyone
// else, and an unsigned reader, gets the integer seconds.

const AP = "application/activity+json";
let app: TestApp;
let pod20: RemoteActorServer;
let pod14: RemoteActorServer;
let plain: RemoteActorServer;
const libraries: Record<"secret" | "open", { id: string; track: SeededTrack }> = {} as never;

async function get(path: string, signer: SigningKey | null) {
  const url = new URL(path, TEST_ORIGIN);
  const res = await fetch(new URL(path, app.url), { headers: { accept: AP, ...(signer ? signatureHeaders("GET", url, signer) : {}) } });
  return { status: res.status, json: await res.json() };
}

/** `name` on `pod` follows our private library (accepted), once its server's NodeInfo is recorded. */
async function follow(pod: RemoteActorServer, name: string, nodeInfo: boolean) {
  const actor = await app.deps.remoteActors.resolve(pod.actorId(name));
  await app.db.pool.query("INSERT INTO follow (id, fid, follower_id, library_id, state) VALUES ($1, $2, $3, $4, 'accepted')", [
    randomUUID(),
    `${actor.fid}#follows/${randomUUID()}`,
    actor.id,
    libraries.secret.id,
  ]);
  if (nodeInfo) await waitUntil(() => app.deps.remoteActors.domains.softwareOf(actor.domain), { what: `the NodeInfo of ${actor.domain}` });
}

const pagePath = (name: keyof typeof libraries) => `/federation/libraries/${libraries[name].id}?page=1`;
const audioPath = (name: keyof typeof libraries) => `/federation/uploads/${libraries[name].track.uploadId}`;

beforeAll(async () => {
  pod20 = await startRemoteActorServer({ software: { name: "funkwhale", version: "2.0.0" } });
  pod14 = await startRemoteActorServer({ software: { name: "funkwhale", version: "1.4.0" } });
  plain = await startRemoteActorServer();
  app = await startTestApp({ env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
  const owner = new TestClient(app.url);
  await owner.signup("owner");
  for (const [name, privacy] of [["secret", "private"], ["open", "public"]] as const) {
    const library = (await owner.post("/api/v1/libraries", { name, privacy })).body;
    const tags = { TITLE: `${name} song`, ARTIST: `${name} band`, ALBUM: `${name} album`, TRACKNUMBER: "1" };
    const [track] = await seedTracks(app, library.id, [{ tags, seconds: 227.6 }]);
    libraries[name] = { id: library.id, track: track! };
  }
  await follow(pod20, "fan", true);
  await follow(pod14, "fan", true);
  await follow(plain, "fan", false);
});
afterAll(async () => {
  await app?.close();
  await Promise.all([pod20, pod14, plain].map((pod) => pod?.close()));
});

describe("the duration of the Audio we serve", () => {
  it("is recorded from each follower's NodeInfo", async () => {
    const host = (pod: RemoteActorServer) => new URL(pod.origin).host;
    expect(await app.deps.remoteActors.domains.softwareOf(host(pod20))).toEqual({ name: "funkwhale", version: "2.0.0" });
    expect(await app.deps.remoteActors.domains.softwareOf(host(pod14))).toEqual({ name: "funkwhale", version: "1.4.0" });
    expect(await app.deps.remoteActors.domains.softwareOf(host(plain))).toBeNull();
  });

  it("is read once a day per server, not each time one of its actors is stored", async () => {
    expect(pod20.nodeInfoReads()).toBe(1);
    await app.deps.remoteActors.resolve(pod20.actorId("fan"), { refresh: true });
    await app.deps.remoteActors.resolve(pod20.actorId("other"));
    await sleep(300);
    expect(pod20.nodeInfoReads()).toBe(1);
  });

  it("is an xsd:duration for a Funkwhale 2.0 pod, in pages and at the Audio's id", async () => {
    const page = await get(pagePath("secret"), pod20.key("fan"));
    expect(page.status).toBe(200);
    expect(page.json.items[0]).toMatchObject({ type: "Audio", duration: "PT3M48S" });
    expect(page.json.items[0].track.artist_credit).toHaveLength(1);
    const audio = await get(audioPath("secret"), pod20.key("fan"));
    expect(audio.status).toBe(200);
    expect(audio.json).toMatchObject({ type: "Audio", duration: "PT3M48S" });
  });

  it("is integer seconds for a Funkwhale 1.4 pod", async () => {
    const page = await get(pagePath("secret"), pod14.key("fan"));
    expect(page.status).toBe(200);
    expect(page.json.items[0].duration).toBe(228);
    expect((await get(audioPath("secret"), pod14.key("fan"))).json.duration).toBe(228);
  });

  it("is integer seconds for a server whose software is unknown", async () => {
    const page = await get(pagePath("secret"), plain.key("fan"));
    expect(page.status).toBe(200);
    expect(page.json.items[0].duration).toBe(228);
  });

  it("is integer seconds for an unsigned reader of a public library", async () => {
    const page = await get(pagePath("open"), null);
    expect(page.status).toBe(200);
    expect(page.json.items[0].duration).toBe(228);
    expect((await get(audioPath("open"), null)).json.duration).toBe(228);
  });
});
