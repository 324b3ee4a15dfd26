import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../../core/db/database.ts";
import { migrate, MigrationChangedError, migrationChecksum } from "../../core/db/migrate.ts";
import { useTestDatabase } from "../helpers/database.ts";

const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations/", import.meta.url));

let db: Database;
let dir: string;
useTestDatabase(4, (opened) => (db = opened));
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "migrations-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

async function recordedChecksum(name: string): Promise<string | null | undefined> {
  const { rows } = await db.pool.query<{ checksum: string | null }>("SELECT checksum FROM schema_migrations WHERE name = $1", [name]);
  return rows[0]?.checksum;
}

async function tableExists(name: string): Promise<boolean> {
  const { rows } = await db.pool.query<{ found: string | null }>("SELECT to_regclass($1)::text AS found", [name]);
  return rows[0]!.found !== null;
}

describe("migration checksums", () => {
  it("are the sha256 of each applied file, recorded with its name", async () => {
    const sql = "CREATE TABLE checksum_probe_a (id int);\n";
    await writeFile(path.join(dir, "9101-probe-a.sql"), sql);
    expect(await migrate(db.pool, dir)).toEqual(["9101-probe-a.sql"]);
    expect(await recordedChecksum("9101-probe-a.sql")).toBe(sha256(sql));
    // Unchanged: the next start applies nothing and passes.
    expect(await migrate(db.pool, dir)).toEqual([]);
  });

  it("refuse to start when an applied file changed, naming it, before applying anything new", async () => {
    await writeFile(path.join(dir, "9201-probe-b.sql"), "CREATE TABLE checksum_probe_b (id int);\n");
    await migrate(db.pool, dir);
    await writeFile(path.join(dir, "9201-probe-b.sql"), "CREATE TABLE checksum_probe_b (id int, added text);\n");
    await writeFile(path.join(dir, "9202-probe-c.sql"), "CREATE TABLE checksum_probe_c (id int);\n");

    const refused = migrate(db.pool, dir);
    await expect(refused).rejects.toBeInstanceOf(MigrationChangedError);
    await expect(refused).rejects.toThrow(/^Migration 9201-probe-b\.sql changed after it was applied/);
    expect(await tableExists("checksum_probe_c")).toBe(false);
    expect(await recordedChecksum("9202-probe-c.sql")).toBeUndefined();
  });

  it("read a file whose line endings became CRLF as unchanged", async () => {
    await writeFile(path.join(dir, "9301-probe-d.sql"), "CREATE TABLE checksum_probe_d (id int);\nSELECT 1;\n");
    await migrate(db.pool, dir);
    await writeFile(path.join(dir, "9301-probe-d.sql"), "CREATE TABLE checksum_probe_d (id int);\r\nSELECT 1;\r\n");
    expect(await migrate(db.pool, dir)).toEqual([]);
  });

  it("are recorded on first start for a database migrated before they were kept (trust on first sight)", async () => {
    // A database as the migrator that kept names only left it.
    await db.pool.query("ALTER TABLE schema_migrations DROP COLUMN checksum");
    expect(await migrate(db.pool)).toEqual([]);
    const { rows } = await db.pool.query<{ name: string; checksum: string }>(
      "SELECT name, checksum FROM schema_migrations WHERE name NOT LIKE '9%' ORDER BY name",
    );
    expect(rows.length).toBeGreaterThanOrEqual(14);
    for (const row of rows) {
      expect(row.checksum, row.name).toBe(migrationChecksum(await readFile(path.join(MIGRATIONS_DIR, row.name), "utf8")));
    }
    // From then on an edit is seen.
    await db.pool.query("UPDATE schema_migrations SET checksum = $1 WHERE name = '0005-search.sql'", [sha256("an older 0005")]);
    await expect(migrate(db.pool)).rejects.toThrow(/^Migration 0005-search\.sql changed after it was applied/);
  });
});
