import { randomUUID } from "node:crypto";
import type pg from "pg";
import { NotFound } from "../errors.ts";
import { visibleLibrariesSql } from "../library/access.ts";

export const ITEM_KINDS = ["tracks", "albums", "artists"] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];
const COLUMN: Record<ItemKind, string> = { tracks: "track_id", albums: "album_id", artists: "artist_id" };

/** SQL condition: the catalog row `alias`.id of this kind has a finished upload the viewer ($n) may see. */
export function visibleItemSql(kind: ItemKind, alias: string, viewerParam: string): string {
  const uploads = `SELECT 1 FROM upload u JOIN library l ON l.id = u.library_id
                   WHERE u.status = 'finished' AND ${visibleLibrariesSql("l", viewerParam)}`;
  if (kind === "tracks") return `EXISTS (${uploads} AND u.track_id = ${alias}.id)`;
  // Albums and artists join from their tracks to uploads (indexed both ways). The form
  // `u.track_id IN (SELECT ... WHERE album_id = alias.id)` is correlated: PostgreSQL then scans every
  // upload once per row (23 ms an album, minutes for getArtists at 100k tracks).
  const visibleUpload = `JOIN upload u ON u.track_id = vt.id JOIN library l ON l.id = u.library_id
                   WHERE u.status = 'finished' AND ${visibleLibrariesSql("l", viewerParam)}`;
  if (kind === "albums") return `EXISTS (SELECT 1 FROM track vt ${visibleUpload} AND vt.album_id = ${alias}.id)`;
  return `EXISTS (SELECT 1 FROM (
            SELECT t.id FROM track t WHERE t.artist_id = ${alias}.id
            UNION ALL SELECT c.track_id FROM artist_credit c WHERE c.artist_id = ${alias}.id AND c.track_id IS NOT NULL
            UNION ALL SELECT t.id FROM track t JOIN album a ON a.id = t.album_id WHERE a.album_artist_id = ${alias}.id) vt
          ${visibleUpload})`;
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
    );
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
    );
  }
}
