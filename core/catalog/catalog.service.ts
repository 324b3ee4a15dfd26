import type pg from "pg";
import { NotFound } from "../errors.ts";
import { visibleLibrariesSql } from "../library/access.ts";
import { browseIds, browsePageIds, browseSampleIds, type BrowseFilter, type BrowseQuery } from "./browse.queries.ts";
import { loadAlbums, loadArtists, loadGenres, loadTracks } from "./catalog-items.ts";
import { visibleItemSql, type ItemKind } from "./user-data.service.ts";

const LOADERS = { artists: loadArtists, albums: loadAlbums, tracks: loadTracks };
type Items = { [K in ItemKind]: Awaited<ReturnType<(typeof LOADERS)[K]>> };

/** Read side of the catalog: pages, details and genres, always limited to what the viewer may see. */
export class CatalogService {
  readonly #pool: pg.Pool;

  constructor(deps: { pool: pg.Pool }) {
    this.#pool = deps.pool;
  }

  async browse<K extends ItemKind>(kind: K, viewerId: string | null, query: BrowseQuery) {
    const { ids, total } = await browseIds(this.#pool, kind, viewerId, query);
    const items = (await LOADERS[kind](this.#pool, ids, viewerId)) as Items[K];
    return { items, total, limit: query.limit, offset: query.offset };
  }

  /** A page of items without counting them all (Subsonic's lists have no total). */
  async page<K extends ItemKind>(kind: K, viewerId: string | null, query: BrowseQuery): Promise<Items[K]> {
    return (await LOADERS[kind](this.#pool, await browsePageIds(this.#pool, kind, viewerId, query), viewerId)) as Items[K];
  }

  /** `limit` items picked at random (a new pick each call; see browseSampleIds). */
  async sample<K extends ItemKind>(kind: K, viewerId: string | null, filter: BrowseFilter, limit: number): Promise<Items[K]> {
    return (await LOADERS[kind](this.#pool, await browseSampleIds(this.#pool, kind, viewerId, filter, limit), viewerId)) as Items[K];
  }

  async #visibleIds(sql: string, params: unknown[]): Promise<string[]> {
    return (await this.#pool.query<{ id: string }>(sql, params)).rows.map((r) => r.id);
  }

  async artist(viewerId: string | null, id: string) {
    const [artist] = await loadArtists(this.#pool, await this.#visibleIds(
      `SELECT ar.id FROM artist ar WHERE ar.id = $2 AND ${visibleItemSql("artists", "ar", "$1")}`, [viewerId, id]), viewerId);
    if (!artist) throw new NotFound("artist");
    const albumIds = await this.#visibleIds(
      `SELECT a.id FROM album a WHERE (a.album_artist_id = $2 OR EXISTS (SELECT 1 FROM artist_credit c WHERE c.album_id = a.id AND c.artist_id = $2)
         OR EXISTS (SELECT 1 FROM track t JOIN artist_credit c ON c.track_id = t.id WHERE t.album_id = a.id AND c.artist_id = $2))
         AND ${visibleItemSql("albums", "a", "$1")} ORDER BY a.year NULLS LAST, a.normalized_title, a.id`,
      [viewerId, id],
    );
    return { ...artist, albums: await loadAlbums(this.#pool, albumIds, viewerId) };
  }

  async album(viewerId: string | null, id: string) {
    // What decides the rest (visible? which tracks? credited to whom?) in one prepared statement, then
    // the album and its tracks at once: clients ask for every album they sync, one after another.
    const { rows: [outline] } = await this.#pool.query<{ artists: { id: string; name: string; joinPhrase: string }[]; track_ids: string[] }>({
      name: "catalog-album-outline",
      text: `SELECT
         (SELECT coalesce(json_agg(json_build_object('id', c.artist_id, 'name', c.credited_name, 'joinPhrase', c.join_phrase)
            ORDER BY c.position), '[]') FROM artist_credit c WHERE c.album_id = a.id) AS artists,
         ARRAY(SELECT t.id FROM track t WHERE t.album_id = a.id AND ${visibleItemSql("tracks", "t", "$1")}
            ORDER BY t.disc_number NULLS FIRST, t.track_number NULLS LAST, t.normalized_title, t.id) AS track_ids
       FROM album a WHERE a.id = $2 AND ${visibleItemSql("albums", "a", "$1")}`,
      values: [viewerId, id],
    });
    if (!outline) throw new NotFound("album");
    const [[album], tracks] = await Promise.all([loadAlbums(this.#pool, [id], viewerId), loadTracks(this.#pool, outline.track_ids, viewerId)]);
    if (!album) throw new NotFound("album"); // deleted meanwhile
    return { ...album, artists: outline.artists, tracks };
  }

  async track(viewerId: string | null, id: string) {
    const [track] = await loadTracks(this.#pool, [id], viewerId);
    const { rows } = await this.#pool.query(
      `SELECT u.id, u.library_id AS "libraryId", u.mime_type AS "mimeType", u.codec, u.bitrate, u.sample_rate AS "sampleRate",
              u.bit_depth AS "bitDepth", u.channels, u.lossless, u.duration_ms AS "durationMs", u.size::float8 AS size
       FROM upload u JOIN library l ON l.id = u.library_id
       WHERE u.track_id = $2 AND u.status = 'finished' AND ${visibleLibrariesSql("l", "$1")}
       ORDER BY u.lossless DESC NULLS LAST, u.bitrate DESC NULLS LAST`,
      [viewerId, id],
    );
    if (!track || !rows.length) throw new NotFound("track");
    return { ...track, uploads: rows };
  }

  genres(viewerId: string | null, sort: "name" | "tracks") {
    return loadGenres(this.#pool, viewerId, sort);
  }
}
