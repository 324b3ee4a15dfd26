import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp } from "../helpers/app.ts";
import { createTestDatabase } from "../helpers/database.ts";
import { TestClient } from "../helpers/client.ts";
import { freePort } from "../helpers/ports.ts";
import { runEntry, spawnEntry, waitForHealthy } from "../helpers/processes.ts";

let env: Record<string, string>;
let drop: () => Promise<void>;
beforeAll(async () => {
  const database = await createTestDatabase();
  drop = database.drop;
  env = { DATABASE_URL: database.url, HOST: "127.0.0.1" };
});
afterAll(() => drop());

describe("npm run cli", () => {
  it("migrate reports an up-to-date database", async () => {
    const { code, output } = await runEntry(["cli.ts", "migrate"], env);
    expect(output.trim()).toBe("Database is up to date.");
    expect(code).toBe(0);
  });

  it("user create reads the password from stdin and can make admins", async () => {
    const { code, output } = await runEntry(
      ["cli.ts", "user", "create", "Bob", "--password-stdin", "--admin", "--email", "bob@example.org"],
      env,
      "a long enough password\n",
    );
    expect(output.trim()).toMatch(/^Created admin bob \([0-9a-f-]{36}\)\.$/);
    expect(code).toBe(0);
  });

  it("user create explains what is wrong", async () => {
    const short = await runEntry(["cli.ts", "user", "create", "carl", "--password-stdin"], env, "short\n");
    expect(short.code).toBe(1);
    expect(short.output).toContain("Use at least 10 characters");
    const noStdin = await runEntry(["cli.ts", "user", "create", "carl"], env);
    expect(noStdin.code).toBe(1);
    expect(noStdin.output).toContain("--password-stdin");
    const taken = await runEntry(["cli.ts", "user", "create", "bob", "--password-stdin"], env, "a long enough password\n");
    expect(taken.code).toBe(1);
    expect(taken.output).toContain("That username is already taken");
  });

  it("help lists the commands", async () => {
    const { code, output } = await runEntry(["cli.ts", "help"], env);
    expect(code).toBe(0);
    expect(output).toContain("user create <name> --password-stdin [--admin]");
    expect((await runEntry(["cli.ts", "frobnicate"], env)).code).toBe(2);
  });
});

describe.skipIf(!hasFfmpeg())("npm run cli -- import --wait", () => {
  it("lists each file that failed with its path and reason, escaping control characters, and not the good ones", async () => {
    const app = await startTestApp({ worker: true });
    const music = await mkdtemp(path.join(os.tmpdir(), "cli-import-"));
    try {
      const admin = new TestClient(app.url);
      await admin.signup("curator");
      const library = (await admin.post("/api/v1/libraries", { name: "Shelf" })).body.id;
      await makeAudio(music, { name: "fine", format: "mp3", tags: { TITLE: "Fine", ARTIST: "Okay" } });
      await writeFile(path.join(music, "empty.flac"), "");
      await writeFile(path.join(music, "notes.mp3"), "These are my liner notes, not music.\n".repeat(50));
      await writeFile(path.join(music, "\x1b[31mred.ogg"), "");

      const { code, output } = await runEntry(["cli.ts", "import", music, "--library", library, "--wait"], {
        DATABASE_URL: app.config.database.url!,
        MEDIA_DIR: app.config.mediaDir,
      });
      expect(code).toBe(0);
      const { rows } = await app.db.pool.query(
        "SELECT path, error_code, error_message FROM upload WHERE status = 'errored' ORDER BY path",
      );
      expect(rows).toHaveLength(3);
      const lines = output.split("\n");
      const failed = lines.indexOf("Failed (3):");
      expect(failed).toBeGreaterThan(-1);
      expect(lines.slice(failed + 1, failed + 4)).toEqual(
        rows.map((r) => `  ${r.path.replace("\x1b", "\\u001b")}: ${r.error_message} (${r.error_code})`),
      );
      expect(lines[failed + 1]).toContain(path.join(music, "\\u001b[31mred.ogg"));
      expect(output).toContain(`${path.join(music, "empty.flac")}: The file is empty (0 bytes)`);
      expect(output).not.toContain("\x1b");
      expect(output).not.toContain("fine.mp3");
      expect(lines.at(-2)).toMatch(/^Batch [0-9a-f-]{36}: 4 new, 0 changed, 0 removed, 0 unchanged\.$/);
      // Piped to a file, not a terminal: progress is not redrawn with carriage returns on one line.
      expect(output).not.toContain("\r");
      expect(lines[failed - 1]).toMatch(/^Imported 4 files in \d+\.\d s \(\d+ files\/s\): 1 finished, 3 failed, 0 skipped as duplicates\.$/);
    } finally {
      await app.close();
      await rm(music, { recursive: true, force: true });
    }
  }, 90_000);
});

describe("npm run web + npm run worker against DATABASE_URL", () => {
  it("serve together: the web process sees the worker's heartbeat, and both drain on SIGTERM", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const worker = spawnEntry(["main.ts", "worker"], env);
    const web = spawnEntry(["main.ts", "web"], { ...env, PORT: String(port) });
    await waitForHealthy(url, web);
    const health = await (await fetch(`${url}/api/v1/health`)).json();
    expect(health).toMatchObject({ status: "ok", database: { ok: true }, worker: { ok: true, running: 1 } });
    expect((await new TestClient(url).login("bob", "a long enough password")).body.user.role).toBe("admin");
    expect(web.output()).not.toContain("Worker worker-");
    expect(worker.output()).not.toContain("Web server listening");
    web.child.kill("SIGTERM");
    worker.child.kill("SIGTERM");
    expect((await web.exited).code).toBe(0);
    expect((await worker.exited).code).toBe(0);
  });
});
