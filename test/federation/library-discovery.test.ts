import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signatureHeaders } from "../../core/fediverse/http-signatures.ts";
import { fetchDocument } from "../../core/fediverse/remote-documents.ts";
import { outboundPolicy } from "../../core/fediverse/safe-fetch.ts";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { startNginx, type RunningNginx } from "../helpers/nginx.ts";
import { freePort } from "../helpers/ports.ts";
import { startRemoteActorServer, type RemoteActorServer } from "../helpers/remote-actor-server.ts";
import { systemProgram } from "../helpers/system-programs.ts";

// How another server finds a library: WebFinger for a listed handle, the actor document (owner, web
// page, collection), the URL shown on the library's page, and that page's HTML naming the collection.

const AP = "application/activity+json";
const INDEX = '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="/x.svg"><title>Polyphony</title></head><body></body></html>';
const MISSING = "00000000-0000-4000-8000-000000000000";
let app: TestApp;
let origin: string;
let webDir: string;
let owner: TestClient;
let stranger: TestClient;
type LibraryDto = { id: string; actorId: string; apUrl: string; handle: string | null; privacy: string };
const libraries = {} as Record<"open" | "club" | "secret", LibraryDto>;

beforeAll(async () => {
  webDir = await mkdtemp(path.join(os.tmpdir(), "discovery-web-"));
  await writeFile(path.join(webDir, "index.html"), INDEX);
  // PUBLIC_URL is where the server really listens, so that our own fetcher can follow its links.
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  app = await startTestApp({ env: { PORT: String(port), PUBLIC_URL: origin, WEB_DIR: webDir, FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
  owner = new TestClient(app.url);
  stranger = new TestClient(app.url);
  await owner.signup("owner");
  await stranger.signup("stranger");
  for (const [name, privacy] of [["open", "public"], ["club", "instance"], ["secret", "private"]] as const) {
    libraries[name] = (await owner.post("/api/v1/libraries", { name, privacy })).body;
  }
});
afterAll(async () => {
  await app?.close();
  await rm(webDir, { recursive: true, force: true });
});

const host = () => new URL(origin).host;
const username = (library: LibraryDto) => `lib.${library.id.replaceAll("-", "")}`;
const webfinger = (library: LibraryDto) => owner.get(`/.well-known/webfinger?resource=acct:${username(library)}@${host()}`);

describe("a library's handle and URL", () => {
  it("are in the library's REST document: a handle unless private", async () => {
    for (const library of Object.values(libraries)) {
      expect(library.apUrl).toBe(`${origin}/federation/libraries/${library.id}`);
      expect(library.handle).toBe(library.privacy === "private" ? null : `@${username(library)}@${host()}`);
    }
    const seen = (await stranger.get(`/api/v1/libraries/${libraries.club.id}`)).body;
    expect(seen).toMatchObject({ handle: `@${username(libraries.club)}@${host()}`, apUrl: libraries.club.apUrl });
  });

  it("resolve through WebFinger for public and instance libraries, not for a private one", async () => {
    for (const library of [libraries.open, libraries.club]) {
      const res = await webfinger(library);
      expect(res.status).toBe(200);
      expect(res.body.subject).toBe(`acct:${username(library)}@${host()}`);
      expect(res.body.links).toContainEqual({ rel: "self", type: AP, href: library.actorId });
    }
    const hidden = await webfinger(libraries.secret);
    expect(hidden.status).toBe(404);
    const unknown = await owner.get(`/.well-known/webfinger?resource=acct:lib.${MISSING.replaceAll("-", "")}@${host()}`);
    expect(unknown.status).toBe(404);
    expect(hidden.body).toEqual(unknown.body);
  });

  it("follow the library's privacy: a private library made public is listed, and unlisted again", async () => {
    const patch = (privacy: string) => owner.request("PATCH", `/api/v1/libraries/${libraries.secret.id}`, { json: { privacy } });
    await patch("public");
    expect((await webfinger(libraries.secret)).status).toBe(200);
    await patch("private");
    expect((await webfinger(libraries.secret)).status).toBe(404);
  });
});

describe("a library's actor", () => {
  it("is readable by its URL whatever the privacy, names its owner, its page and its collection", async () => {
    const ownerActor = `${origin}/actors/owner`;
    for (const library of Object.values(libraries)) {
      const res = await owner.get(new URL(library.actorId).pathname, { accept: AP });
      expect(res.status).toBe(200);
      const actor = typeof res.body === "string" ? JSON.parse(res.body) : res.body;
      expect(actor).toMatchObject({
        type: "Application",
        preferredUsername: username(library),
        attributedTo: ownerActor,
        url: { type: "Link", href: `${origin}/libraries/${library.id}`, mediaType: "text/html" },
        streams: library.apUrl,
      });
    }
  });
});

describe("a library's web page", () => {
  const firstLink = (html: string) => /<head[^>]*>\s*(<link\b[^>]*>)/i.exec(html)?.[1];

  it("names its collection as the first link of its head", async () => {
    for (const library of Object.values(libraries)) {
      const res = await fetch(new URL(`/libraries/${library.id}`, app.url), { headers: { accept: "text/html" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(firstLink(await res.text())).toBe(`<link rel="alternate" type="application/activity+json" href="${library.apUrl}">`);
    }
    // Other pages are the plain index.html.
    expect(await (await fetch(new URL("/albums", app.url), { headers: { accept: "text/html" } })).text()).toBe(INDEX);
  });

  it("answers a missing library's page exactly as a private one's", async () => {
    const page = async (id: string) => (await (await fetch(new URL(`/libraries/${id}`, app.url), { headers: { accept: "text/html" } })).text()).replaceAll(id, "ID");
    expect(await page(MISSING)).toBe(await page(libraries.secret.id));
  });

  it("leads a server given the page's URL to the Library document", async () => {
    await seedTracks(app, libraries.open.id, [{ tags: { TITLE: "Found", ARTIST: "Band", ALBUM: "Record" } }]);
    const document = await fetchDocument(`${origin}/libraries/${libraries.open.id}`, { policy: outboundPolicy(app.config), followAlternate: true });
    expect(document).toMatchObject({ type: "Library", id: libraries.open.apUrl, totalItems: 1, audience: "https://www.w3.org/ns/activitystreams#Public" });
  });
});

const nginx = systemProgram("nginx");

describe.skipIf(!nginx)("through nginx", () => {
  let nginxApp: TestApp;
  let proxy: RunningNginx;
  let remote: RemoteActorServer;
  beforeAll(async () => {
    remote = await startRemoteActorServer();
    nginxApp = await startTestApp({ env: { MEDIA_SERVING: "nginx", WEB_DIR: webDir, FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
    proxy = await startNginx({ upstreamPort: Number(new URL(nginxApp.url).port), mediaRoot: nginxApp.config.mediaDir });
  });
  afterAll(async () => {
    await proxy?.stop();
    await nginxApp?.close();
    await remote?.close();
  });

  it("sends the app a library's page, documents and signed media requests; nginx sends the bytes", async () => {
    const client = new TestClient(nginxApp.url);
    await client.signup("nina");
    const library = (await client.post("/api/v1/libraries", { name: "Behind nginx", privacy: "private" })).body;
    const bytes = Buffer.from("x".repeat(10_000));
    const [track] = await seedTracks(nginxApp, library.id, [{ tags: { TITLE: "Proxied", ARTIST: "Band", ALBUM: "Record" }, data: bytes }]);
    const fan = await nginxApp.deps.remoteActors.resolve(remote.actorId("fan"));
    await nginxApp.db.pool.query("INSERT INTO follow (id, fid, follower_id, library_id, state) VALUES (gen_random_uuid(), $1, $2, $3, 'accepted')", [
      `${fan.fid}#follow`,
      fan.id,
      library.id,
    ]);

    const html = await (await fetch(`${proxy.url}/libraries/${library.id}`, { headers: { accept: "text/html" } })).text();
    expect(html).toContain(`<link rel="alternate" type="application/activity+json" href="${TEST_ORIGIN}/federation/libraries/${library.id}">`);
    const collection = await fetch(`${proxy.url}/federation/libraries/${library.id}`, { headers: { accept: AP } });
    expect(await collection.json()).toMatchObject({ type: "Library", audience: "" });

    // Signed for PUBLIC_URL's host; nginx's Host ($host, 127.0.0.1) does not matter.
    const mediaPath = `/federation/media/${track!.uploadId}`;
    const signed = (extra: Record<string, string> = {}) => ({ ...signatureHeaders("GET", new URL(mediaPath, TEST_ORIGIN), remote.key("fan")), ...extra });
    const direct = await fetch(new URL(mediaPath, nginxApp.url), { headers: signed() });
    expect(direct.headers.get("x-accel-redirect")).toMatch(/^\/_protected\/media\/uploads\//);
    expect(direct.headers.get("content-type")).toBe("audio/mpeg");
    expect((await direct.arrayBuffer()).byteLength).toBe(0);
    const whole = await fetch(proxy.url + mediaPath, { headers: signed() });
    expect(whole.status).toBe(200);
    expect(whole.headers.get("x-accel-redirect")).toBeNull();
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    const part = await fetch(proxy.url + mediaPath, { headers: signed({ range: "bytes=0-99" }) });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(0, 100))).toBe(true);
    expect((await fetch(proxy.url + mediaPath)).status).toBe(404);
  });
});
