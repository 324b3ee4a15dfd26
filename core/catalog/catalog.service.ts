import type pg from "pg";
import { nearestTracks, seedTrackIds } from "../analysis/more-like-this.ts";
import { NotFound } from "../errors.ts";
import type { UploadRow } from "../library/uploads.service.ts";
import { browseIds, browsePageIds, browseSampleIds, type BrowseFilter, type BrowseQuery } from "./browse.queries.ts";
import { loadAlbums, loadAlbumTracks, loadArtists, loadGenres, loadTracks } from "./catalog-items.ts";
import { BEST_COPY_ORDER, bestCopySql, visibleCopiesSql, visibleItemSql } from "./catalog-read.ts";
import { ITEM_KINDS, visibleKindOf, type ItemKind } from "./user-data.service.ts";

const LOADERS = { artists: loadArtists, albums: loadAlbums, tracks: loadTracks };
type Items = { [K in ItemKind]: Awaited<ReturnType<(typeof LOADERS)[K]>> };

/** Read side of the catalog: pages, details, genres and the files behind them, always limited to what the viewer may see. */
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

  /** An artist with their visible albums (`details`: with each album's credits and genres). */
  async artist(viewerId: string | null, id: string, albumOptions: { details?: boolean } = {}) {
    const [artist] = await loadArtists(this.#pool, await this.#visibleIds(
      `SELECT ar.id FROM artist ar WHERE ar.id = $2 AND ${visibleItemSql("artists", "ar", "$1")}`, [viewerId, id]), viewerId);
    if (!artist) throw new NotFound("artist");
    const albumIds = await this.#visibleIds(
      `SELECT a.id FROM album a WHERE (a.album_artist_id = $2 OR EXISTS (SELECT 1 FROM artist_credit c WHERE c.album_id = a.id AND c.artist_id = $2)
         OR EXISTS (SELECT 1 FROM track t JOIN artist_credit c ON c.track_id = t.id WHERE t.album_id = a.id AND c.artist_id = $2))
         AND ${visibleItemSql("albums", "a", "$1")} ORDER BY a.year NULLS LAST, a.normalized_title, a.id`,
      [viewerId, id],
    );
    return { ...artist, albums: await loadAlbums(this.#pool, albumIds, viewerId, albumOptions) };
  }

  /** An album with its credits, genres and visible tracks (`files`: with each track's file details). */
  async album(viewerId: string | null, id: string, options: { files?: boolean } = {}) {
    // One statement: clients ask for every album they sync, one after another.
    const album = await loadAlbumTracks(this.#pool, id, viewerId, options);
    if (!album) throw new NotFound("album"); // unknown, or hidden from the viewer
    return album;
  }

  async track(viewerId: string | null, id: string, options: { files?: boolean } = {}) {
    const [[track], { rows }] = await Promise.all([loadTracks(this.#pool, [id], viewerId, options), this.#pool.query(
      `SELECT u.id, u.library_id AS "libraryId", u.mime_type AS "mimeType", u.codec, u.bitrate, u.sample_rate AS "sampleRate",
              u.bit_depth AS "bitDepth", u.channels, u.lossless, u.duration_ms AS "durationMs", u.size::float8 AS size
       FROM ${visibleCopiesSql("$2", { viewer: "$1" })} ORDER BY ${BEST_COPY_ORDER}`,
      [viewerId, id],
    )]);
    if (!track || !rows.length) throw new NotFound("track");
    return { ...track, uploads: rows };
  }

  /**
   * "More like this": the visible analysed tracks nearest in audio features to the track (or album, or
   * artist, unless `trackOnly`) `id` names, nearest first (core/analysis/more-like-this.ts). NotFound when it names nothing
   * the viewer sees; `analysed` false (and no items) when none of its tracks is analysed yet.
   */
  async similarTracks(viewerId: string | null, id: string, limit: number, options: { trackOnly?: boolean; files?: boolean } = {}) {
    const seeds = await seedTrackIds(this.#pool, viewerId, id, options.trackOnly);
    if (!seeds.length) throw new NotFound("track");
    const neighbours = await nearestTracks(this.#pool, viewerId, seeds, limit);
    if (!neighbours) return { analysed: false, items: [] };
    const distance = new Map(neighbours.map((n) => [n.trackId, n.distance]));
    const tracks = await loadTracks(this.#pool, neighbours.map((n) => n.trackId), viewerId, { files: options.files });
    return { analysed: true, items: tracks.map((t) => ({ ...t, distance: distance.get(t.id)! })) };
  }

  genres(viewerId: string | null, sort: "name" | "tracks") {
    return loadGenres(this.#pool, viewerId, sort);
  }

  // Building blocks for protocols that shape their own lists (Subsonic): ids first, then items by id.

  /** Artists by id, in that order; unknown and hidden ids are left out. */
  artists(viewerId: string | null, ids: string[]) {
    return loadArtists(this.#pool, ids, viewerId);
  }

  /** Albums by id, in that order (`details`: with credits and genres); unknown and hidden ids are left out. */
  albums(viewerId: string | null, ids: string[], options: Parameters<typeof loadAlbums>[3] = {}) {
    return loadAlbums(this.#pool, ids, viewerId, options);
  }

  /** Tracks by id, in that order, repeats kept (`files`: with their file details); unknown and hidden ids are left out. */
  tracks(viewerId: string | null, ids: string[], options: Parameters<typeof loadTracks>[3] = {}) {
    return loadTracks(this.#pool, ids, viewerId, options);
  }

  /** The ids of a page of items (see page). */
  pageIds(kind: ItemKind, viewerId: string | null, query: BrowseQuery): Promise<string[]> {
    return browsePageIds(this.#pool, kind, viewerId, query);
  }

  /** The ids of `limit` items picked at random (see sample). */
  sampleIds(kind: ItemKind, viewerId: string | null, filter: BrowseFilter, limit: number): Promise<string[]> {
    return browseSampleIds(this.#pool, kind, viewerId, filter, limit);
  }

  /** Which of `kinds` the id names among what the viewer may see; undefined for a missing and a hidden one alike. */
  visibleKindOf(viewerId: string, id: string, kinds: readonly ItemKind[] = ITEM_KINDS): Promise<ItemKind | undefined> {
    return visibleKindOf(this.#pool, viewerId, id, kinds);
  }

  /** The copy of a track the viewer hears (what stream sends); undefined when the track is unknown or hidden. */
  async bestCopy(viewerId: string | null, trackId: string): Promise<UploadRow | undefined> {
    const { rows } = await this.#pool.query<UploadRow>({
      name: "subsonic-best-upload", // prepared once per connection: planning cost more than running
      text: bestCopySql("$1", { viewer: "$2" }, "u.*"),
      values: [trackId, viewerId],
    });
    return rows[0];
  }

  /** The cover hash of a visible album; undefined when the album is unknown or hidden, null without art. */
  async albumCoverHash(viewerId: string | null, albumId: string): Promise<string | null | undefined> {
    const { rows } = await this.#pool.query<{ cover_hash: string | null }>({
      name: "subsonic-album-cover", // prepared once per connection: planning cost more than running
      text: `SELECT a.cover_hash FROM album a WHERE a.id = $2 AND ${visibleItemSql("albums", "a", "$1")}`,
      values: [viewerId, albumId],
    });
    return rows[0] ? rows[0].cover_hash : undefined;
  }

  /**
   * Whether a cover (by its content hash) belongs to an album the viewer sees: the hash is no secret
   * (every album's cover URL names it), so a private album's art goes only to who may see the album.
   */
  async canSeeCover(viewerId: string | null, hash: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `SELECT 1 FROM album a WHERE a.cover_hash = $2 AND ${visibleItemSql("albums", "a", "$1")} LIMIT 1`,
      [viewerId, hash],
    );
    return Boolean(rowCount);
  }
}
