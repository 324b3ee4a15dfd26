import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_EMBEDDED_DB_PORT } from "../../core/db/embedded-port.ts";
import { PASSWORD, TestClient } from "../helpers/client.ts";
import { freePort } from "../helpers/ports.ts";
import { runEntry, spawnEntry, waitForHealthy } from "../helpers/processes.ts";

/** Holds a port as another program would; already held by someone else is just as good. */
async function occupy(port: number): Promise<{ close(): Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => (error.code === "EADDRINUSE" ? resolve() : reject(error)));
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return { close: () => new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve())) };
}

const STACK_LINE = /^\s+at /m;

describe("the quick start on a machine that already runs one", () => {
  let dataDir: string;
  let defaultPortHolder: { close(): Promise<void> };
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "polyphony-second-"));
    defaultPortHolder = await occupy(DEFAULT_EMBEDDED_DB_PORT);
  });
  afterAll(async () => {
    await defaultPortHolder?.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const postmasterPort = () => Number(readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[3]);

  it("runs its embedded PostgreSQL on a free port, says where it listens, and starts again on the same data", async () => {
    const port = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1" }; // no EMBEDDED_DB_PORT: as in the README
    const url = `http://127.0.0.1:${port}`;
    for (const run of ["first", "again"]) {
      const app = spawnEntry(["main.ts", "all"], env);
      await waitForHealthy(url, app);
      const dbPort = Number(/Embedded PostgreSQL running on 127\.0\.0\.1:(\d+)/.exec(app.output())?.[1]);
      expect(dbPort).not.toBe(DEFAULT_EMBEDDED_DB_PORT);
      expect(dbPort).toBe(postmasterPort());
      expect(app.output()).toContain(`Port ${DEFAULT_EMBEDDED_DB_PORT} on 127.0.0.1 is taken`);
      expect(app.output()).toContain(`Web server listening on 127.0.0.1:${port}; open http://localhost:${port}/`);
      const client = new TestClient(url);
      expect((run === "first" ? await client.signup("second") : await client.login("second", PASSWORD)).status).toBeLessThan(300);
      app.child.kill("SIGTERM");
      expect(await app.exited).toEqual({ code: 0, signal: null });
    }
  }, 120_000);

  it("stops with a message naming EMBEDDED_DB_PORT when the port asked for is taken", async () => {
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()), HOST: "127.0.0.1", EMBEDDED_DB_PORT: String(DEFAULT_EMBEDDED_DB_PORT) };
    const { code, output } = await runEntry(["main.ts", "all"], env);
    expect(code).toBe(1);
    expect(output).toContain(`EMBEDDED_DB_PORT: port ${DEFAULT_EMBEDDED_DB_PORT} on 127.0.0.1 cannot be used (in use)`);
    expect(output).not.toMatch(STACK_LINE);
  });

  it("stops with a message naming PORT when the web port is taken, leaving no PostgreSQL behind", async () => {
    const port = await freePort();
    const webPortHolder = await occupy(port);
    try {
      const { code, output } = await runEntry(["main.ts", "all"], { DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1" });
      expect(code).toBe(1);
      expect(output).toContain(`PORT: port ${port} on 127.0.0.1 is already in use`);
      expect(output).not.toMatch(STACK_LINE);
      expect(existsSync(path.join(dataDir, "postgres", "postmaster.pid"))).toBe(false);
    } finally {
      await webPortHolder.close();
    }
  }, 60_000);
});
