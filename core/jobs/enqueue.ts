import type { EntityManager } from "@mikro-orm/postgresql";
import { sqlOn } from "../db/entity-manager-sql.ts";

/** Anything that runs SQL: a pg Pool, a PoolClient inside a transaction, or a pg Client. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

export interface JobOptions {
  /** Jobs sharing a queue name run one at a time, in order. */
  queueName?: string;
  runAt?: Date;
  maxAttempts?: number;
  /** A second job with the same key replaces the first while it has not started. */
  jobKey?: string;
  priority?: number;
}

/**
 * Enqueues a graphile-worker job through SQL, so it commits or rolls back with the caller's transaction:
 * pass withTransaction's `tx.sql` or `tx.em` (or any EntityManager in a transaction) as `db`.
 * Core stays free of the graphile-worker package.
 */
export async function enqueueJob(
  db: Queryable | EntityManager,
  task: string,
  payload: unknown,
  options: JobOptions = {},
): Promise<void> {
  // Told apart by shape, not instanceof: a command that runs SQL only never loads MikroORM (cli.ts).
  const sql = "getKysely" in db ? sqlOn(db) : db;
  await sql.query(
    `SELECT graphile_worker.add_job($1, $2::json, queue_name => $3, run_at => $4,
       max_attempts => $5, job_key => $6, priority => $7)`,
    [
      task,
      JSON.stringify(payload ?? {}),
      options.queueName ?? null,
      options.runAt ?? null,
      options.maxAttempts ?? null,
      options.jobKey ?? null,
      options.priority ?? null,
    ],
  );
}
