import { statSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../core/db/database.ts";
import { EmbeddedPostgres } from "../../core/db/embedded-postgres.ts";
import { freePort } from "../helpers/ports.ts";

/** Where a connection comes from: null over a Unix socket, an address over TCP. */
async function clientAddress(config: pg.ClientConfig): Promise<string | null> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return (await client.query("SELECT inet_client_addr() AS address")).rows[0].address;
  } finally {
    await client.end();
  }
}

describe("embedded PostgreSQL connections", () => {
  it("are made over its Unix socket, by pg and the ORM alike, with TCP on 127.0.0.1 still open", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "socket-"));
    const server = new EmbeddedPostgres({ dataDir, port: await freePort() });
    try {
      const url = await server.start("sockets");
      expect(new URL(url).searchParams.get("host")).toBe(server.pgDir);
      expect(await clientAddress({ connectionString: url })).toBeNull();
      const db = await openDatabase(url, 1);
      try {
        const [row] = await db.orm.em.getConnection().execute("SELECT inet_client_addr() AS address, current_database() AS db");
        expect(row).toEqual({ address: null, db: "sockets" });
      } finally {
        await db.close();
      }
      const tcp = new URL(url);
      tcp.search = "";
      expect(await clientAddress({ connectionString: tcp.href })).toBe("127.0.0.1");
    } finally {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("falls back to TCP when the socket's path would be too long for Linux", async () => {
    const parent = await mkdtemp(path.join(os.tmpdir(), "deep-"));
    await chmod(parent, 0o755); // as root, a folder the postgres user cannot reach would be placed elsewhere
    const dataDir = path.join(parent, "a-folder-name-long-enough".repeat(4));
    const server = new EmbeddedPostgres({ dataDir, port: await freePort() });
    try {
      const url = await server.start("deep");
      expect(new URL(url).searchParams.has("host")).toBe(false);
      expect(await clientAddress({ connectionString: url })).toBe("127.0.0.1");
    } finally {
      await server.stop();
      await rm(parent, { recursive: true, force: true });
    }
  });
});

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
