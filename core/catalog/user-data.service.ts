import { randomUUID } from "node:crypto";
import type pg from "pg";
import { orGone } from "../db/foreign-key.ts";
import { NotFound } from "../errors.ts";
import { visibleItemSql } from "./catalog-read.ts";

export const ITEM_KINDS = ["tracks", "albums", "artists"] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];
const COLUMN: Record<ItemKind, string> = { tracks: "track_id", albums: "album_id", artists: "artist_id" };

/**
 * Which of `kinds` the id names among the things the viewer may see, or undefined: someone else's
 * hidden item and a missing one look the same (no existence oracle through a method taking any id).
 */
export async function visibleKindOf(db: pg.Pool, viewerId: string, id: string, kinds: readonly ItemKind[] = ITEM_KINDS): Promise<ItemKind | undefined> {
  const { rows } = await db.query<{ kind: ItemKind }>(
    kinds.map((kind) => `SELECT '${kind}' AS kind FROM ${kind.slice(0, -1)} x WHERE x.id = $2 AND ${visibleItemSql(kind, "x", "$1")}`)
      .join(" UNION ALL ") + " LIMIT 1",
    [viewerId, id],
  );
  return rows[0]?.kind;
}

/** Favourites and 1-5 ratings of one user; only on things that user may see (plays: core/listens). */
export class UserDataService {
  readonly #pool: pg.Pool;

  constructor(deps: { pool: pg.Pool }) {
    this.#pool = deps.pool;
  }

  async #assertVisible(userId: string, kind: ItemKind, id: string): Promise<void> {
    const table = kind.slice(0, -1);
    const { rowCount } = await this.#pool.query(`SELECT 1 FROM ${table} x WHERE x.id = $2 AND ${visibleItemSql(kind, "x", "$1")}`, [
      userId,
      id,
    ]);
    if (!rowCount) throw new NotFound(table);
  }

  async setFavorite(userId: string, kind: ItemKind, id: string, favorite: boolean): Promise<void> {
    await this.#assertVisible(userId, kind, id);
    const column = COLUMN[kind];
    if (!favorite) {
      await this.#pool.query(`DELETE FROM favorite WHERE user_id = $1 AND ${column} = $2`, [userId, id]);
      return;
    }
    await this.#pool.query(
      `INSERT INTO favorite (id, user_id, ${column}) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, ${column}) WHERE ${column} IS NOT NULL DO NOTHING`,
      [randomUUID(), userId, id],
    ).catch(orGone(() => new NotFound(kind.slice(0, -1)), `favorite_${column}_foreign`));
  }

  /** A rating of 1-5, or null to clear it. */
  async setRating(userId: string, kind: ItemKind, id: string, rating: number | null): Promise<void> {
    await this.#assertVisible(userId, kind, id);
    const column = COLUMN[kind];
    if (rating === null) {
      await this.#pool.query(`DELETE FROM rating WHERE user_id = $1 AND ${column} = $2`, [userId, id]);
      return;
    }
    await this.#pool.query(
      `INSERT INTO rating (id, user_id, ${column}, rating) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, ${column}) WHERE ${column} IS NOT NULL DO UPDATE SET rating = EXCLUDED.rating, updated_at = now()`,
      [randomUUID(), userId, id, rating],
    ).catch(orGone(() => new NotFound(kind.slice(0, -1)), `rating_${column}_foreign`));
  }
}
