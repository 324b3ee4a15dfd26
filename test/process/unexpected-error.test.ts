import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/ports.ts";
import { isAlive, spawnEntry, waitForHealthy } from "../helpers/processes.ts";

let dataDir: string;
let env: Record<string, string>;
let url: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "polyphony-fatal-"));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  env = { DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", EMBEDDED_DB_PORT: String(await freePort()) };
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

const postmasterFile = () => path.join(dataDir, "postgres", "postmaster.pid");

describe("a truly unexpected error in npm start (web + worker + embedded PostgreSQL)", () => {
  for (const kind of ["exception", "rejection"]) {
    it(`(an uncaught ${kind}) is logged, and the process stops everything it started and exits 1`, async () => {
      const app = spawnEntry(["--import", "./test/fixtures/fail-on-signal.ts", "main.ts", "all"], { ...env, FAIL_WITH: kind });
      await waitForHealthy(url, app);
      const postgres = Number(readFileSync(postmasterFile(), "utf8").split("\n")[0]);
      app.child.kill("SIGUSR2");
      expect(await app.exited, app.output()).toEqual({ code: 1, signal: null });
      expect(app.output()).toMatch(new RegExp(`level=fatal .*Unexpected error .*deliberate ${kind} for a test`));
      expect(app.output()).toContain("Web server stopped");
      expect(isAlive(postgres)).toBe(false);
      expect(existsSync(postmasterFile())).toBe(false);
    }, 60_000);
  }
});
