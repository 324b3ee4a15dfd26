import type { EntityManager, MikroORM } from "@mikro-orm/postgresql";
import type * as KyselyModule from "kysely";
import type { PostgresPool } from "kysely";
import type pg from "pg";

/** What a transaction is opened on: the ORM and the pg pool it owns (a Database has both). */
export interface TransactionSource {
  readonly pool: pg.Pool;
  readonly orm: MikroORM;
}

/** One transaction, reachable both ways, on one connection. */
export interface Transaction {
  /** The transaction's pg connection: set-based SQL, and enqueueJob (core/jobs/enqueue.ts). */
  readonly sql: pg.PoolClient;
  /**
   * An EntityManager whose queries and flushes run in this transaction (made on first use; flushed
   * before COMMIT, as em.transactional does). Its em.transactional runs inside this transaction: no
   * savepoint, and no flush of its own (flush before reading its rows through `sql`).
   */
  readonly em: EntityManager;
}

// Kysely (~250 modules) is loaded with the ORM only (openDatabase): a CLI command on a pool without the
// ORM (sqlOnlyDatabase) opens transactions too, and each command pays for its imports at start.
let kysely: typeof KyselyModule | undefined;
/** Loads what `tx.em` and sqlOn need; openDatabase awaits it beside the ORM. */
export async function loadEntityManagerSupport(): Promise<void> {
  kysely ??= await import("kysely");
}

/** Kysely, loaded by openDatabase: whoever holds an EntityManager has it. */
export function loadedKysely(): typeof KyselyModule {
  if (!kysely) throw new Error("An EntityManager needs a database opened with the ORM (openDatabase)");
  return kysely;
}

type AfterCommit = () => Promise<void>;
/** Work waiting for the commit of each transaction withTransaction has open, by its connection. */
const afterCommitWork = new WeakMap<pg.PoolClient, AfterCommit[]>();

/** PostgreSQL's deadlock_detected: the victim's transaction is rolled back whole, and may simply run again. */
const DEADLOCK = "40P01";
/** Runs of one transaction when it keeps being chosen as a deadlock's victim. */
const DEADLOCK_ATTEMPTS = 3;

/**
 * Runs `work` in one transaction: commit when it resolves, rollback on any error. The one way to open
 * a transaction, whether it writes through entities, SQL or both (README, "Persistence"). Work
 * registered with afterCommit runs once the commit is done (the connection released), in order. A
 * transaction PostgreSQL picks as a deadlock's victim (a deletion of catalog rows meeting an import that
 * writes them, say) runs again from the start, up to DEADLOCK_ATTEMPTS times, as PostgreSQL advises:
 * nothing of it was kept, and what it leaves for after the commit is only kept from the run that commits.
 */
export async function withTransaction<T>(db: TransactionSource, work: (tx: Transaction) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runTransaction(db, work);
    } catch (error) {
      if (attempt >= DEADLOCK_ATTEMPTS || (error as { code?: unknown } | null)?.code !== DEADLOCK) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

async function runTransaction<T>(db: TransactionSource, work: (tx: Transaction) => Promise<T>): Promise<T> {
  const client = await db.pool.connect();
  const later: AfterCommit[] = [];
  afterCommitWork.set(client, later);
  let result: T;
  let em: EntityManager | undefined;
  const tx: Transaction = {
    sql: client,
    get em() {
      return (em ??= entityManagerOn(db.orm, client));
    },
  };
  try {
    await client.query("BEGIN");
    result = await work(tx);
    await em?.flush();
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    afterCommitWork.delete(client);
    client.release();
  }
  for (const task of later) await task();
  return result;
}

/**
 * Runs `task` after the transaction on `client` commits, never after a rollback: what cannot be undone
 * (removing a file) waits for the rows that point at it to be gone for good.
 */
export function afterCommit(client: pg.PoolClient, task: AfterCommit): void {
  const later = afterCommitWork.get(client);
  if (!later) throw new Error("afterCommit needs a transaction opened by withTransaction");
  later.push(task);
}

/**
 * A fork of the ORM's EntityManager whose queries go to `client`. MikroORM runs every query of an
 * EntityManager in a transaction through that EntityManager's "transaction context", a Kysely object;
 * here it is a Kysely over this one connection. With transactions disabled on the fork, its flush
 * and em.transactional run inside ours instead of starting their own. (A Kysely transaction object
 * would give real savepoints, but must be made asynchronously, which `tx.em` cannot wait for.)
 */
function entityManagerOn(orm: MikroORM, client: pg.PoolClient): EntityManager {
  const oneConnection: PostgresPool = {
    // withTransaction releases the client; Kysely's release after each query is a no-op.
    connect: async () => ({ query: client.query.bind(client) as never, release: () => {} }),
    end: async () => {},
    options: {},
  };
  const { Kysely, PostgresDialect } = loadedKysely();
  const em = orm.em.fork({ disableTransactions: true });
  em.setTransactionContext(new Kysely<unknown>({ dialect: new PostgresDialect({ pool: oneConnection }) }));
  return em;
}
