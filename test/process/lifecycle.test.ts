import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, TestClient } from "../helpers/client.ts";
import { freePort } from "../helpers/ports.ts";
import { isAlive, runEntry, spawnEntry, waitForHealthy } from "../helpers/processes.ts";

let dataDir: string;
let env: Record<string, string>;
let url: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "polyphony-life-"));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  env = { DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", EMBEDDED_DB_PORT: String(await freePort()) };
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

const postmasterPid = () => Number(readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);

describe("npm start (web + worker + embedded PostgreSQL in one process)", () => {
  it("starts on a fresh data dir, serves the API, and SIGTERM leaves no postgres behind", async () => {
    const app = spawnEntry(["main.ts", "all"], env);
    await waitForHealthy(url, app);
    expect(app.output()).toContain("Initialising embedded PostgreSQL");
    expect((await new TestClient(url).signup("keeper")).status).toBe(201);
    const pgPid = postmasterPid();
    expect(isAlive(pgPid)).toBe(true);

    app.child.kill("SIGTERM");
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(isAlive(pgPid)).toBe(false);
    expect(existsSync(path.join(dataDir, "postgres", "postmaster.pid"))).toBe(false);
    expect(app.output()).toMatch(/SIGTERM received: draining requests and jobs/);
  });

  it("reuses the data on the next start, and SIGINT stops it cleanly too", async () => {
    const app = spawnEntry(["main.ts", "all"], env);
    await waitForHealthy(url, app);
    expect(app.output()).not.toContain("Initialising embedded PostgreSQL");
    expect((await new TestClient(url).login("keeper", PASSWORD)).status).toBe(200);
    const pgPid = postmasterPid();
    app.child.kill("SIGINT");
    expect((await app.exited).code).toBe(0);
    expect(isAlive(pgPid)).toBe(false);
  });

  it("recovers after being killed hard: the orphaned postgres is stopped and the data kept", async () => {
    const first = spawnEntry(["main.ts", "all"], env);
    await waitForHealthy(url, first);
    const orphan = postmasterPid();
    first.child.kill("SIGKILL");
    await first.exited;
    expect(isAlive(orphan)).toBe(true);

    const second = spawnEntry(["main.ts", "all"], env);
    await waitForHealthy(url, second);
    expect(second.output()).toContain("left behind by an earlier run");
    expect(isAlive(orphan)).toBe(false);
    expect((await new TestClient(url).login("keeper", PASSWORD)).status).toBe(200);
    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
  });
});

describe("start-up errors", () => {
  it("stops with a message naming a bad variable", async () => {
    const { code, output } = await runEntry(["main.ts"], { ...env, PORT: "not-a-port", REGISTRATION: "sometimes" });
    expect(code).toBe(1);
    expect(output).toContain("Invalid configuration:");
    expect(output).toMatch(/PORT: /);
    expect(output).toMatch(/REGISTRATION: /);
  });

  it("requires DATABASE_URL for separate web and worker processes", async () => {
    for (const mode of ["web", "worker"]) {
      const { code, output } = await runEntry(["main.ts", mode], env);
      expect(code).toBe(1);
      expect(output).toContain("DATABASE_URL is required when the web and worker processes run separately");
    }
  });

  it("rejects an unknown mode", async () => {
    const { code, output } = await runEntry(["main.ts", "everything"], env);
    expect(code).toBe(2);
    expect(output).toContain('Unknown mode "everything"');
  });
});
