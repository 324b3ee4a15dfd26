import type pg from "pg";

type AfterCommit = () => Promise<void>;
/** Work waiting for the commit of each transaction withTransaction has open. */
const afterCommitWork = new WeakMap<pg.PoolClient, AfterCommit[]>();

/**
 * Runs `work` in one transaction on a pooled client: commit on success, rollback on any error. Work
 * registered with afterCommit runs once the commit is done (the client released), in order.
 */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const later: AfterCommit[] = [];
  afterCommitWork.set(client, later);
  let result: T;
  try {
    await client.query("BEGIN");
    result = await work(client);
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
