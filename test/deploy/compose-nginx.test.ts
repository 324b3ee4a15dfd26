import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { startNginx, WEB_ASSET, WEB_INDEX, type RunningNginx } from "../helpers/nginx.ts";
import { ROOT } from "../helpers/processes.ts";
import { openEventStream } from "../helpers/sse.ts";
import { systemProgram } from "../helpers/system-programs.ts";

const nginx = systemProgram("nginx");

describe("docker-compose.yml", () => {
  it("defines postgres, web, worker and nginx wired to each other", async () => {
    const compose = parse(await readFile(path.join(ROOT, "docker-compose.yml"), "utf8"), { merge: true });
    expect(Object.keys(compose.services).sort()).toEqual(["nginx", "postgres", "web", "worker"]);
    const { web, worker, nginx: proxy, postgres } = compose.services;
    expect(postgres.image).toMatch(/^postgres:1[5-9]/);
    expect(web.command).toEqual(["node", "main.ts", "web"]);
    expect(worker.command).toEqual(["node", "main.ts", "worker"]);
    for (const app of [web, worker]) {
      expect(app.build).toBe(".");
      expect(app.environment.DATABASE_URL).toMatch(/@postgres:5432\/polyphony$/);
      expect(app.depends_on.postgres.condition).toBe("service_healthy");
    }
    expect(proxy.volumes).toContain("./config/nginx/polyphony.conf:/etc/nginx/conf.d/default.conf:ro");
    expect(proxy.ports).toEqual(["80:80"]);
    // nginx's image carries the web UI built from the same sources as the app's image.
    expect(proxy.build).toEqual({ context: ".", target: "nginx" });
    const dockerfile = await readFile(path.join(ROOT, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM node:24/m);
    expect(dockerfile).toMatch(/^RUN npm run build:web$/m);
    expect(dockerfile).toMatch(/^FROM nginx:1\.\d+ AS nginx$/m);
    expect(dockerfile).toContain("COPY --from=build /app/web/dist /srv/polyphony/web");
    // The app stage comes last: it is what `build: .` makes for web and worker.
    expect(dockerfile.trim().split("\n").filter((l) => l.startsWith("FROM ")).at(-1)).toMatch(/^FROM node:24\S* AS app$/);
  });
});

describe.skipIf(!nginx)("config/nginx/polyphony.conf", () => {
  it("passes nginx -t", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "nginx-t-"));
    try {
      // In compose, "web" resolves to the app containers; here it must resolve too, so point it at loopback.
      const site = (await readFile(path.join(ROOT, "config/nginx/polyphony.conf"), "utf8")).replace("server web:4000", "server 127.0.0.1:4000");
      expect(site).toContain("server 127.0.0.1:4000");
      await writeFile(path.join(dir, "site.conf"), site);
      await writeFile(
        path.join(dir, "nginx.conf"),
        `pid ${dir}/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n  access_log off;\n  include ${dir}/site.conf;\n}\n`,
      );
      const result = spawnSync(nginx!, ["-t", "-p", dir, "-c", path.join(dir, "nginx.conf")], { encoding: "utf8" });
      expect(result.stderr).toContain("test is successful");
      expect(result.status).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!nginx)("the nginx site in front of the app", () => {
  let app: TestApp;
  let proxy: RunningNginx;
  let mediaRoot: string;
  beforeAll(async () => {
    app = await startTestApp();
    mediaRoot = await mkdtemp(path.join(os.tmpdir(), "nginx-media-"));
    proxy = await startNginx({ upstreamPort: Number(new URL(app.url).port), mediaRoot });
  });
  afterAll(async () => {
    await proxy?.stop();
    await app?.close();
    await rm(mediaRoot, { recursive: true, force: true });
  });

  it("serves the web UI itself: index.html for client-side routes, revalidated; hashed assets immutable", async () => {
    for (const url of ["/", "/albums/0b6f1c1e-0000-4000-8000-000000000000", "/index.html"]) {
      const res = await fetch(proxy.url + url);
      expect([url, res.status, await res.text()]).toEqual([url, 200, WEB_INDEX]);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("cache-control")).toBe("no-cache");
    }
    const asset = await fetch(proxy.url + WEB_ASSET.path);
    expect(asset.status).toBe(200);
    expect(await asset.text()).toBe(WEB_ASSET.body);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const missing = await fetch(`${proxy.url}/assets/index-0ldHash.js`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).not.toBe(WEB_INDEX);
  });

  it("passes the API, unknown API paths included, and Subsonic to the app", async () => {
    const instance = await fetch(`${proxy.url}/api/v1/instance`);
    expect(await instance.json()).toEqual({ name: "polyphony.test", version: "0.1.0", registration: "open" });
    const unknown = await fetch(`${proxy.url}/api/v1/no-such-route`);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("not_found");
    const ping = await fetch(`${proxy.url}/rest/ping.view?f=json`);
    expect((await ping.json())["subsonic-response"]).toMatchObject({ status: "failed" });
  });

  it("streams live events through while the stream stays open", async () => {
    const client = new TestClient(proxy.url);
    await client.signup("nina");
    const library = (await client.post("/api/v1/libraries", { name: "Through nginx" })).body.id;
    const stream = await openEventStream(client);
    try {
      expect(stream.status).toBe(200);
      expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const res = await client.upload(`/api/v1/libraries/${library}/uploads`, [{ name: "empty.mp3", data: new Uint8Array(0) }]);
      const id = res.body.uploads[0].id;
      const created = await stream.waitFor((e) => e.data.id === id, 15_000);
      expect(created.data).toMatchObject({ libraryId: library, status: "pending" });
    } finally {
      stream.close();
    }
  });
});
