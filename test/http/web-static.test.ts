import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";

const INDEX = '<!doctype html><title>Polyphony</title><div id="app">web ui index</div>\n';
const IMMUTABLE = "public, max-age=31536000, immutable";

let app: TestApp;
let client: TestClient;
let webDir: string;
beforeAll(async () => {
  // A tiny stand-in for web/dist: what Vite writes (index.html, hashed assets, public files).
  webDir = await mkdtemp(path.join(os.tmpdir(), "web-dist-"));
  await mkdir(path.join(webDir, "assets"));
  await writeFile(path.join(webDir, "index.html"), INDEX);
  await writeFile(path.join(webDir, "assets", "index-B7x9Qe1a.js"), "console.log('app');\n");
  await writeFile(path.join(webDir, "assets", "index-C2d4Ef6g.css"), "body { margin: 0 }\n");
  await writeFile(path.join(webDir, "favicon.svg"), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
  app = await startTestApp({ env: { WEB_DIR: webDir } });
  client = new TestClient(app.url);
});
afterAll(async () => {
  await app?.close();
  await rm(webDir, { recursive: true, force: true });
});

describe("the web UI's files", () => {
  it("serve index.html at / and for client-side routes, revalidated on every load", async () => {
    for (const url of ["/", "/albums/0b6f1c1e-0000-4000-8000-000000000000", "/settings/account", "/index.html"]) {
      const res = await client.get(url);
      expect([url, res.status, res.body]).toEqual([url, 200, INDEX]);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("cache-control")).toBe("no-cache");
    }
  });

  it("serve hashed assets as immutable for a year", async () => {
    const js = await client.get("/assets/index-B7x9Qe1a.js");
    expect(js.status).toBe(200);
    expect(js.body).toBe("console.log('app');\n");
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect(js.headers.get("cache-control")).toBe(IMMUTABLE);
    const css = await client.get("/assets/index-C2d4Ef6g.css");
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
    expect(css.headers.get("cache-control")).toBe(IMMUTABLE);
  });

  it("revalidate other files (not hashed: their content may change under the same name)", async () => {
    const icon = await client.get("/favicon.svg");
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
    expect(icon.headers.get("cache-control")).toBe("no-cache");
  });

  it("answer a missing asset with 404, not with index.html", async () => {
    const res = await client.get("/assets/index-OLDHASH.js");
    expect(res.status).toBe(404);
    expect(res.body).not.toContain("web ui index");
  });

  it("never stand in for unknown API or Subsonic paths", async () => {
    for (const url of ["/api/v1/no-such-route", "/api/nothing", "/api", "/rest/no/such/path", "/rest"]) {
      const res = await client.get(url);
      expect([url, res.status]).toEqual([url, 404]);
      expect(String(typeof res.body === "string" ? res.body : JSON.stringify(res.body))).not.toContain("web ui index");
    }
    for (const url of ["/.well-known/webfinger?resource=acct:nobody@polyphony.test", "/.well-known/nothing", "/nodeinfo/9.9"]) {
      const res = await client.get(url);
      expect([url, res.status]).toEqual([url, 404]);
    }
    const api = await client.get("/api/v1/no-such-route");
    expect(api.body.error.code).toBe("not_found");
    // A known Subsonic method still answers in Subsonic's own shape.
    const subsonic = await client.get("/rest/ping.view?f=json");
    expect(subsonic.body["subsonic-response"].status).toBe("failed");
  });
});

describe("actor URLs", () => {
  it("get the web UI in a browser and a 404 for an ActivityPub client asking for an unknown actor", async () => {
    const browser = await client.get("/actors/nobody", { accept: "text/html,application/xhtml+xml,*/*;q=0.8" });
    expect([browser.status, browser.body]).toEqual([200, INDEX]);
    const fediverse = await client.get("/actors/nobody", { accept: "application/activity+json" });
    expect(fediverse.status).toBe(404);
    expect(String(fediverse.body)).not.toContain("web ui index");
  });
});
