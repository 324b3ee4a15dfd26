import { MikroORM } from "@mikro-orm/postgresql";
import type pg from "pg";
import { entities, sqlOnlyTables } from "./entities.ts";

/** The ORM and the pg pool it owns; raw-SQL users (KV store, job queue, rate limits) share that pool. */
export interface Database {
  readonly orm: MikroORM;
  readonly pool: pg.Pool;
  /** The connection URL, for the rare connection that cannot be pooled (LISTEN). */
  readonly url: string;
  close(): Promise<void>;
}

export async function openDatabase(url: string, poolSize: number): Promise<Database> {
  // `?host=` (a Unix socket's directory, say): pg reads it from the URL, MikroORM only from its `host` option.
  const socketDir = new URL(url).searchParams.get("host");
  const orm = await MikroORM.init({
    clientUrl: url,
    ...(socketDir ? { host: socketDir } : {}),
    entities,
    pool: { min: 0, max: poolSize },
    ensureDatabase: false,
    debug: false,
    // Triggers and functions are hand-written in migrations (the search index, 0005), never entities.
    schemaGenerator: { skipTables: sqlOnlyTables, ignoreSchema: ["graphile_worker"], ignoreTriggers: true, ignoreRoutines: true },
  });
  const pool = (await orm.em.getConnection().getNativeClient()) as pg.Pool;
  return {
    orm,
    pool,
    url,
    async close() {
      await orm.close();
      // MikroORM 7.2 leaves the native pool open; its idle clients would hold the process for 10 s.
      if (!pool.ended) await pool.end();
    },
  };
}
