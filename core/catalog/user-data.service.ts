import { randomUUID } from "node:crypto";
import type pg from "pg";
import { orGone } from "../db/foreign-key.ts";
import { NotFound } from "../errors.ts";
import { visibleLibrariesSql } from "../library/access.ts";

export const ITEM_KINDS = ["tracks", "albums", "artists"] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];
const COLUMN: Record<ItemKind, string> = { tracks: "track_id", albums: "album_id", artists: "artist_id" };

/**
 * SQL: the ids of the libraries the viewer ($n) may see, as a uuid[]. Uncorrelated, so PostgreSQL
 * computes it once per statement (an InitPlan), however many rows test against it.
 */
export function visibleLibraryIdsSql(viewerParam: string): string {
  return `ARRAY(SELECT l.id FROM library l WHERE ${visibleLibrariesSql("l", viewerParam)})`;
}

/**
 * SQL condition: the catalog row `alias`.id of this kind has a finished upload the viewer ($n) may see.
 * search_document (migrations/0005-search.sql) keeps, for every track, album and artist with a finished
 * upload, the libraries holding it (an artist: through the tracks and albums credited to them, which
 * include the main and album artist: the importer credits them first), exact within the importing or
 * deleting transaction. One primary-key probe a row, where joining track -> upload -> library cost
 * ~240 ms over 10,000 albums. search_visible() is `&&` hidden from the planner's estimate (see 0005):
 * the bare operator is guessed to keep 1% of rows, and newest-first album pages then sorted every
 * visible album instead of walking the created_at index until the page is full.
 */
export function visibleItemSql(kind: ItemKind, alias: string, viewerParam: string): string {
  return `EXISTS (SELECT 1 FROM search_document vd WHERE vd.id = ${alias}.id AND vd.kind = '${kind.slice(0, -1)}'
            AND search_visible(vd.library_ids, ${visibleLibraryIdsSql(viewerParam)}))`;
}

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
