import type { AppConfig } from "../../config/env.ts";
import { getLogger } from "../../config/logging.ts";
import { openDatabase, sqlOnlyDatabase, type Database } from "./database.ts";
import { EmbeddedPostgres } from "./embedded-postgres.ts";
import { migrate } from "./migrate.ts";

const log = getLogger(["polyphony", "db"]);

export interface Connection {
  db: Database;
  /** Closes the pool, then stops the embedded server if we started one. */
  close(): Promise<void>;
}

/**
 * Opens DATABASE_URL, or starts the embedded PostgreSQL under DATA_DIR when it is unset (only where
 * `allowEmbedded`: one process owns an embedded server). Applies pending migrations.
 */
export async function connect(
  config: AppConfig,
  // `sqlOnly`: a pool without the ORM (database.ts's sqlOnlyDatabase), for CLI commands that only run SQL.
  options: { allowEmbedded: boolean; extraConnections?: number; sqlOnly?: boolean },
): Promise<Connection> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.database.url;
  if (!url) {
    if (!options.allowEmbedded) {
      throw new Error("DATABASE_URL is required when the web and worker processes run separately");
    }
    embedded = new EmbeddedPostgres({ dataDir: config.dataDir, port: config.database.embeddedPort });
    url = await embedded.start();
    log.info("Embedded PostgreSQL running on 127.0.0.1:{port}, data in {dir}", { port: embedded.port, dir: embedded.pgDir });
  }
  let db: Database | undefined;
  try {
    const poolSize = config.database.poolSize + (options.extraConnections ?? 0);
    db = options.sqlOnly ? sqlOnlyDatabase(url, poolSize) : await openDatabase(url, poolSize);
    await migrate(db.pool);
  } catch (error) {
    await db?.close();
    await embedded?.stop();
    throw error;
  }
  const opened = db;
  return {
    db: opened,
    async close() {
      await opened.close();
      await embedded?.stop();
    },
  };
}
