import type { MikroORM } from "@mikro-orm/postgresql";
import pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { loadEntityManagerSupport } from "./transaction.ts";

const log = getLogger(["polyphony", "db"]);

/** The ORM and the pg pool it owns; raw-SQL users (KV store, job queue, rate limits) share that pool. */
export interface Database {
  readonly orm: MikroORM;
  readonly pool: pg.Pool;
  /** The connection URL, for the rare connection that cannot be pooled (LISTEN). */
  readonly url: string;
  close(): Promise<void>;
}

export async function openDatabase(url: string, poolSize: number): Promise<Database> {
  // Loaded here, not at the top: a CLI command that needs no ORM (sqlOnlyDatabase) never pays its ~0.5 s load.
  const [{ MikroORM }, { entities, sqlOnlyTables }] = await Promise.all([
    import("@mikro-orm/postgresql"),
    import("./entities.ts"),
    loadEntityManagerSupport(),
  ]);
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

/** Dates, timestamps and intervals as MikroORM's pool hands them back: the text PostgreSQL sent (arrays of it too). */
function mikroOrmTypes(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  const textArray = pg.types.getTypeParser(1009 as never); // text[] (pg names no array types)
  for (const oid of [1082, 1114, 1184, 1186]) types.setTypeParser(oid, (text: string) => text);
  for (const oid of [1182, 1115, 1185, 1187]) types.setTypeParser(oid, textArray);
  return types;
}

/**
 * A pool alone, for a CLI command whose work is SQL only (import, migrate): the ORM's load and metadata
 * discovery were most of such a command's start. Rows come back typed as the ORM's pool types them, so
 * the same code reads them either way; using `orm` throws.
 */
export function sqlOnlyDatabase(url: string, poolSize: number): Database {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types: mikroOrmTypes() });
  // A connection that breaks (the server restarting) is logged, not thrown at the process.
  const failed = (error: Error) => log.warning("Database connection failed: {error}", { error: error.message });
  pool.on("error", failed);
  pool.on("connect", (client) => client.on("error", failed));
  return {
    // Handed around as every Database's is; any use of it throws.
    orm: new Proxy({} as MikroORM, {
      get() {
        throw new Error("This database was opened without the ORM (sqlOnlyDatabase)");
      },
    }),
    pool,
    url,
    close: () => pool.end(),
  };
}
