import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ActorSchema } from "../../core/accounts/actor.entity.ts";
import type { Database } from "../../core/db/database.ts";
import { withTransaction, type Transaction } from "../../core/db/transaction.ts";
import { enqueueJob } from "../../core/jobs/enqueue.ts";
import { useTestDatabase } from "../helpers/database.ts";

let db: Database;
useTestDatabase(4, (opened) => (db = opened));

const PROBE_TASK = "transaction_probe";

/** A remote actor (no key pairs to make), written one way or the other. */
const writes = {
  async entity(tx: Transaction, id: string) {
    tx.em.create(ActorSchema, { id, fid: `https://remote.example/actors/${id}`, type: "Person", username: id, domain: "remote.example", isLocal: false });
    await tx.em.flush();
  },
  async sql(tx: Transaction, id: string) {
    await tx.sql.query(
      "INSERT INTO actor (id, fid, type, username, domain, is_local) VALUES ($1, $2, 'Person', $3, 'remote.example', false)",
      [id, `https://remote.example/actors/${id}`, id],
    );
  },
};
const enqueueThrough = {
  em: (tx: Transaction) => tx.em,
  sql: (tx: Transaction) => tx.sql,
};

async function committed(id: string): Promise<{ actor: boolean; job: boolean }> {
  const actor = await db.pool.query("SELECT 1 FROM actor WHERE id = $1", [id]);
  const job = await db.pool.query("SELECT 1 FROM graphile_worker.jobs WHERE task_identifier = $1 AND key = $2", [PROBE_TASK, id]);
  return { actor: actor.rowCount === 1, job: job.rowCount === 1 };
}

class Abort extends Error {}

describe("withTransaction", () => {
  const cases = (["entity", "sql"] as const).flatMap((write) => (["em", "sql"] as const).map((through) => ({ write, through })));

  it.each(cases)("keeps a job enqueued through tx.$through with a $write write when it commits", async ({ write, through }) => {
    const id = randomUUID();
    await withTransaction(db, async (tx) => {
      await writes[write](tx, id);
      await enqueueJob(enqueueThrough[through](tx), PROBE_TASK, { id }, { jobKey: id });
      // Both ways see the transaction's own rows before it commits: one connection.
      expect((await tx.sql.query("SELECT 1 FROM actor WHERE id = $1", [id])).rowCount).toBe(1);
      expect(await tx.em.count(ActorSchema, { id })).toBe(1);
      expect(await committed(id)).toEqual({ actor: false, job: false });
    });
    expect(await committed(id)).toEqual({ actor: true, job: true });
  });

  it.each(cases)("drops a job enqueued through tx.$through with a $write write when it rolls back", async ({ write, through }) => {
    const id = randomUUID();
    const failed = withTransaction(db, async (tx) => {
      await writes[write](tx, id);
      await enqueueJob(enqueueThrough[through](tx), PROBE_TASK, { id }, { jobKey: id });
      throw new Abort();
    });
    await expect(failed).rejects.toBeInstanceOf(Abort);
    expect(await committed(id)).toEqual({ actor: false, job: false });
  });

  it("lets enqueueJob join a plain em.transactional through its EntityManager too", async () => {
    const id = randomUUID();
    const failed = db.orm.em.fork().transactional(async (em) => {
      await enqueueJob(em, PROBE_TASK, { id }, { jobKey: id });
      throw new Abort();
    });
    await expect(failed).rejects.toBeInstanceOf(Abort);
    expect((await committed(id)).job).toBe(false);
    await db.orm.em.fork().transactional((em) => enqueueJob(em, PROBE_TASK, { id }, { jobKey: id }));
    expect((await committed(id)).job).toBe(true);
  });

  it("flushes entities left unflushed before it commits", async () => {
    const id = randomUUID();
    await withTransaction(db, async (tx) => {
      tx.em.create(ActorSchema, { id, fid: `https://remote.example/actors/${id}`, type: "Person", username: id, domain: "remote.example", isLocal: false });
    });
    expect((await committed(id)).actor).toBe(true);
  });

  it("runs an em.transactional inside it as part of it: rolled back with it", async () => {
    const id = randomUUID();
    const failed = withTransaction(db, async (tx) => {
      await tx.em.transactional(async (em) => {
        em.create(ActorSchema, { id, fid: `https://remote.example/actors/${id}`, type: "Person", username: id, domain: "remote.example", isLocal: false });
        await em.flush();
      });
      expect((await tx.sql.query("SELECT 1 FROM actor WHERE id = $1", [id])).rowCount).toBe(1);
      throw new Abort();
    });
    await expect(failed).rejects.toBeInstanceOf(Abort);
    expect((await committed(id)).actor).toBe(false);
  });

  it("rolls back when the flush before COMMIT fails, and the error is MikroORM's", async () => {
    const id = randomUUID();
    const failed = withTransaction(db, async (tx) => {
      await writes.sql(tx, id);
      // The same actor again, left for the final flush: a unique violation there.
      tx.em.create(ActorSchema, { id: randomUUID(), fid: `https://remote.example/actors/${id}`, type: "Person", username: id, domain: "remote.example", isLocal: false });
    });
    await expect(failed).rejects.toMatchObject({ name: "UniqueConstraintViolationException" });
    expect((await committed(id)).actor).toBe(false);
  });

  it("runs a deadlock's victim again, and keeps only the run that commits", async () => {
    const [first, second] = [randomUUID(), randomUUID()];
    for (const id of [first, second]) await withTransaction(db, (tx) => writes.sql(tx, id));
    // Two transactions lock the same two rows in opposite orders, each waiting for the other: one is the victim.
    const runs = { a: 0, b: 0 };
    const lockBoth = (name: "a" | "b", ids: string[]) =>
      withTransaction(db, async (tx) => {
        runs[name] += 1;
        await tx.sql.query("UPDATE actor SET name = $2 WHERE id = $1", [ids[0], name]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await tx.sql.query("UPDATE actor SET name = $2 WHERE id = $1", [ids[1], name]);
        return name;
      });
    expect(await Promise.all([lockBoth("a", [first, second]), lockBoth("b", [second, first])])).toEqual(["a", "b"]);
    expect(runs.a + runs.b).toBe(3);
    const names = await db.pool.query("SELECT name FROM actor WHERE id = ANY($1::uuid[])", [[first, second]]);
    expect(new Set(names.rows.map((r) => r.name)).size).toBe(1);
  });
});

