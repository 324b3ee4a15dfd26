import { statSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { EmbeddedPostgres } from "../../core/db/embedded-postgres.ts";
import { freePort } from "../helpers/ports.ts";

const asRoot = process.getuid?.() === 0;
if (!asRoot) console.warn("[skip] not running as root: the postgres-user placement test needs root");

describe.skipIf(!asRoot)("embedded PostgreSQL as root", () => {
  it("runs as the postgres user, and keeps its cluster outside a DATA_DIR that user cannot reach", async () => {
    const privateParent = await mkdtemp(path.join(os.tmpdir(), "private-")); // mode 0700, like /root
    const dataDir = path.join(privateParent, "data");
    await mkdir(dataDir);
    const server = new EmbeddedPostgres({ dataDir, port: await freePort() });
    try {
      const url = await server.start("placed");
      expect(server.pgDir).toMatch(/^\/var\/lib\/polyphony\/postgres-[0-9a-f]{12}$/);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query("SELECT current_database() AS db, pg_backend_pid() AS pid");
      await client.end();
      expect(rows[0].db).toBe("placed");
      expect(statSync(server.pgDir).uid).not.toBe(0);
    } finally {
      await server.stop();
      await rm(server.pgDir, { recursive: true, force: true });
      await rm(privateParent, { recursive: true, force: true });
    }
  });
});
