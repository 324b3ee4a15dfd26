import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";

const log = getLogger(["polyphony", "db", "migrate"]);
const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations/", import.meta.url));
/** Arbitrary constant: one process migrates at a time, however many replicas start together. */
const MIGRATION_LOCK = 7_201_845_113;

/**
 * A migration file differs from the one applied to this database. Its changes would never run here (a
 * database applies each name once), so the schema would silently differ from the code's: we refuse to start.
 */
export class MigrationChangedError extends Error {
  override name = "MigrationChangedError";
  readonly file: string;

  constructor(file: string) {
    super(
      `Migration ${file} changed after it was applied to this database (its checksum differs from the one ` +
        "recorded in schema_migrations). A landed migration is never edited: restore the file as it was " +
        "and put the change in a new migration.",
    );
    this.file = file;
  }
}

interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

/**
 * Applies the forward-only SQL migrations in migrations/ in name order, each in its own transaction,
 * recording each one's name and checksum in schema_migrations. Before applying any, checks that every
 * file already applied is unchanged (MigrationChangedError otherwise). Returns the names applied by this call.
 */
export async function migrate(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = await readMigrations(dir);
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await client.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    // Databases migrated before checksums were kept have none: see recordMissingChecksums.
    await client.query("ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text");
    const { rows } = await client.query<{ name: string; checksum: string | null }>("SELECT name, checksum FROM schema_migrations");
    const recorded = new Map(rows.map((r) => [r.name, r.checksum]));
    const done = files.filter((f) => recorded.has(f.name));
    for (const file of done) {
      const checksum = recorded.get(file.name);
      if (checksum != null && checksum !== file.checksum) throw new MigrationChangedError(file.name);
    }
    await recordMissingChecksums(client, done.filter((f) => recorded.get(f.name) == null));
    for (const file of files) {
      if (recorded.has(file.name)) continue;
      try {
        await client.query("BEGIN");
        await client.query(file.sql);
        await client.query("INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", [file.name, file.checksum]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw new Error(`Migration ${file.name} failed: ${(error as Error).message}`, { cause: error });
      }
      log.info("Applied migration {file}", { file: file.name });
      applied.push(file.name);
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
  return applied;
}

/**
 * Trust on first sight: a migration applied before checksums were recorded gets the checksum of the
 * file as it is now. Whatever edits it went through before that start cannot be told any more; every
 * later one can.
 */
async function recordMissingChecksums(client: pg.PoolClient, files: MigrationFile[]): Promise<void> {
  if (files.length === 0) return;
  await client.query(
    `UPDATE schema_migrations m SET checksum = f.checksum
     FROM unnest($1::text[], $2::text[]) AS f(name, checksum) WHERE m.name = f.name AND m.checksum IS NULL`,
    [files.map((f) => f.name), files.map((f) => f.checksum)],
  );
  log.info("Recorded the checksums of {count} migrations applied before checksums were kept", { count: files.length });
}

async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((f) => /^\d{4}-[\w-]+\.sql$/.test(f)).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name), "utf8");
      return { name, sql, checksum: migrationChecksum(sql) };
    }),
  );
}

/**
 * sha256 of the file's text, with CRLF read as LF: a checkout that converts line endings (git's
 * autocrlf on Windows) is the same migration, not an edited one.
 */
export function migrationChecksum(sql: string): string {
  return createHash("sha256").update(sql.replaceAll("\r\n", "\n")).digest("hex");
}
