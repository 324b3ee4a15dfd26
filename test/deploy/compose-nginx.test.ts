import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/processes.ts";
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
    const dockerfile = await readFile(path.join(ROOT, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM node:24/m);
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
