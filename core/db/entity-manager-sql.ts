import type { EntityManager } from "@mikro-orm/postgresql";
import type { Queryable } from "../jobs/enqueue.ts";
import { loadedKysely } from "./transaction.ts";

/**
 * SQL written for pg ($1 parameters, sent as parameters) run on the connection an EntityManager uses:
 * its transaction's when it is in one (em.transactional, or withTransaction's tx.em), so it commits or
 * rolls back with the entities. em.execute would inline the values into the text instead.
 */
export function sqlOn(em: EntityManager): Queryable {
  const { CompiledQuery } = loadedKysely();
  return {
    async query(text: string, values: unknown[] = []) {
      const { rows, numAffectedRows } = await em.getKysely().executeQuery(CompiledQuery.raw(text, values));
      // Kysely counts the rows an INSERT/UPDATE/DELETE/MERGE touched; pg's rowCount for others is the rows returned.
      return { rows, rowCount: numAffectedRows === undefined ? rows.length : Number(numAffectedRows) };
    },
  };
}
