import type pg from "pg";
import { rangeBounds, type RangeBounds, type StatsRange } from "./listen-ranges.ts";

/** The whole site's rollups are kept under this scope (migration 0023). */
export const SITEWIDE_SCOPE = "00000000-0000-0000-0000-000000000000";

export const STATS_ENTITIES = ["artist", "release", "release_group", "recording", "genre"] as const;
export type StatsEntity = (typeof STATS_ENTITIES)[number];

export interface EntityCount {
  name: string;
  artistName: string | null;
  releaseName: string | null;
  mbid: string | null;
  artistMbids: string[];
  releaseMbid: string | null;
  listenCount: number;
}

export interface TopEntities {
  entities: EntityCount[];
  /** How many entities have listens in the range (for paging). */
  total: number;
  bounds: RangeBounds;
}

export interface ActivityBucket {
  from: Date;
  /** Exclusive. */
  to: Date;
  listenCount: number;
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Listening statistics, read from the rollups that the listen table's triggers keep current in the
 * transaction of every insert and delete (migration 0023): no batch, so never "not computed yet".
 * `scope` is a user's id or SITEWIDE_SCOPE. Who may read whose statistics is the caller's check
 * (ListenPrivacy).
 */
export class ListenStatsService {
  readonly #pool: pg.Pool;

  constructor(deps: { pool: pg.Pool }) {
    this.#pool = deps.pool;
  }

  /** The most listened entities of a kind in the range, most first (ties by first counted). */
  async top(scope: string, kind: StatsEntity, range: StatsRange, page: { count: number; offset: number }): Promise<TopEntities> {
    const bounds = rangeBounds(range);
    // All time is one row per entity; other ranges sum day rows.
    const counts = range === "all_time"
      ? "SELECT entity_id, listen_count FROM listen_stat WHERE scope = $1 AND kind = $2 AND day = 'infinity'"
      : `SELECT entity_id, sum(listen_count)::int AS listen_count FROM listen_stat
         WHERE scope = $1 AND kind = $2 AND day >= $5::date AND day < $6::date AND day <> 'infinity' GROUP BY entity_id`;
    const { rows } = await this.#pool.query(
      `WITH counts AS (${counts})
       SELECT e.name, e.artist_name, e.release_name, e.mbid, e.artist_mbids, e.release_mbid, c.listen_count,
         count(*) OVER () AS total
       FROM counts c JOIN listen_entity e ON e.id = c.entity_id
       ORDER BY c.listen_count DESC, c.entity_id LIMIT $3 OFFSET $4`,
      [scope, kind, page.count, page.offset, ...(range === "all_time" ? [] : [isoDay(bounds.from), isoDay(bounds.to)])],
    );
    const total = rows.length
      ? Number(rows[0].total)
      : page.offset ? await this.#total(scope, kind, range, bounds) : 0;
    return {
      total,
      bounds,
      entities: rows.map((r) => ({
        name: r.name,
        artistName: r.artist_name,
        releaseName: r.release_name,
        mbid: r.mbid,
        artistMbids: r.artist_mbids ?? [],
        releaseMbid: r.release_mbid,
        listenCount: r.listen_count,
      })),
    };
  }

  /** Entities counted in the range, for a page past the end (which holds no row to carry the total). */
  async #total(scope: string, kind: StatsEntity, range: StatsRange, bounds: RangeBounds): Promise<number> {
    const { rows } = await this.#pool.query<{ total: string }>(
      range === "all_time"
        ? "SELECT count(*) AS total FROM listen_stat WHERE scope = $1 AND kind = $2 AND day = 'infinity'"
        : `SELECT count(DISTINCT entity_id) AS total FROM listen_stat
           WHERE scope = $1 AND kind = $2 AND day >= $3::date AND day < $4::date AND day <> 'infinity'`,
      range === "all_time" ? [scope, kind] : [scope, kind, isoDay(bounds.from), isoDay(bounds.to)],
    );
    return Number(rows[0]!.total);
  }

  /**
   * Listens per day (week and month ranges), month (quarter, half year, year) or year (all time) over
   * the range and the period before it, as ListenBrainz shows them; all time only the years with listens.
   */
  async listeningActivity(scope: string, range: StatsRange): Promise<{ buckets: ActivityBucket[]; bounds: RangeBounds }> {
    const bounds = rangeBounds(range);
    const { rows } = await this.#pool.query<{ bucket: string; listen_count: number }>(
      `SELECT date_trunc($2, hour, 'UTC') AS bucket, sum(listen_count)::int AS listen_count FROM listen_hour
       WHERE scope = $1 AND hour >= $3 AND hour < $4 GROUP BY 1`,
      [scope, bounds.unit, bounds.previousFrom, bounds.to],
    );
    const counted = new Map(rows.map((r) => [new Date(r.bucket).getTime(), r.listen_count]));
    const next = (d: Date) => new Date(Date.UTC(
      d.getUTCFullYear() + (bounds.unit === "year" ? 1 : 0),
      d.getUTCMonth() + (bounds.unit === "month" ? 1 : 0),
      d.getUTCDate() + (bounds.unit === "day" ? 1 : 0),
    ));
    const buckets: ActivityBucket[] = [];
    for (let at = bounds.previousFrom; at < bounds.to; at = next(at)) {
      const listenCount = counted.get(at.getTime()) ?? 0;
      if (bounds.unit === "year" && !listenCount) continue;
      buckets.push({ from: at, to: next(at), listenCount });
    }
    return { buckets, bounds };
  }

  /** Listens per weekday (1 = Monday) and UTC hour in the range; only the hours with listens. */
  async dailyActivity(scope: string, range: StatsRange): Promise<{ hours: { weekday: number; hour: number; listenCount: number }[]; bounds: RangeBounds }> {
    const bounds = rangeBounds(range);
    const { rows } = await this.#pool.query(
      `SELECT extract(isodow FROM hour AT TIME ZONE 'UTC')::int AS weekday, extract(hour FROM hour AT TIME ZONE 'UTC')::int AS hour,
         sum(listen_count)::int AS listen_count
       FROM listen_hour WHERE scope = $1 AND hour >= $2 AND hour < $3 GROUP BY 1, 2`,
      [scope, bounds.from, bounds.to],
    );
    return { hours: rows.map((r) => ({ weekday: r.weekday, hour: r.hour, listenCount: r.listen_count })), bounds };
  }
}
