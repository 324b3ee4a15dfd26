import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Database } from "../../core/db/database.ts";
import { migrate } from "../../core/db/migrate.ts";
import { useTestDatabase } from "../helpers/database.ts";

let db: Database;
useTestDatabase(4, (opened) => (db = opened));

describe("migrations", () => {
  it("describe exactly the schema the entities expect", async () => {
    expect(await db.orm.schema.getUpdateSchemaSQL({ wrap: false })).toBe("");
    // The ORM's diff does not see timestamp-vs-timestamptz or json-vs-jsonb; check those directly.
    const loose = await db.pool.query(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = 'public' AND data_type IN ('timestamp without time zone', 'json', 'character varying')`,
    );
    expect(loose.rows).toEqual([]);
  });

  it("are recorded once and re-running them changes nothing", async () => {
    expect(await migrate(db.pool)).toEqual([]);
    const { rows } = await db.pool.query("SELECT name FROM schema_migrations ORDER BY name");
    expect(rows.map((r) => r.name)).toContain("0001-foundation.sql");
  });

  it("roll back a failing migration whole and name it", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "migrations-"));
    try {
      await writeFile(path.join(dir, "9001-good.sql"), "CREATE TABLE migration_probe (id int);");
      await writeFile(path.join(dir, "9002-bad.sql"), "CREATE TABLE migration_probe_2 (id int); SELECT * FROM no_such_table;");
      await expect(migrate(db.pool, dir)).rejects.toThrow(/Migration 9002-bad.sql failed: relation "no_such_table"/);
      const tables = await db.pool.query(
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'migration_probe%' ORDER BY 1",
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(["migration_probe"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("have the search extensions later features rely on", async () => {
    const { rows } = await db.pool.query("SELECT extname FROM pg_extension ORDER BY 1");
    expect(rows.map((r) => r.extname)).toEqual(expect.arrayContaining(["pg_trgm", "unaccent"]));
  });
});
