import { Router, type Request, type Response } from "express";
import type { ListenAccessService } from "../../core/listens/listen-access.service.ts";
import { isStatsRange, type StatsRange } from "../../core/listens/listen-ranges.ts";
import { SITEWIDE_SCOPE, type ListenStatsService, type StatsEntity } from "../../core/listens/listen-stats.service.ts";
import { handle } from "../http/handle.ts";
import { LbError, lbNotFoundUser, viewerId } from "./lb-http.ts";
import { lbDailyActivity, lbEntity, lbRangeFields, lbTimeRange } from "./lb-shapes.ts";

const DEFAULT_ITEMS_PER_GET = 25;
const URL_NOT_FOUND = "The requested URL was not found on the server.";
const MAX_ITEMS_PER_GET = 1000;

/** The path's entity, ListenBrainz's payload key for it and its total's key. */
const ENTITIES: Record<string, { kind: StatsEntity; key: string; total: string }> = {
  artists: { kind: "artist", key: "artists", total: "total_artist_count" },
  releases: { kind: "release", key: "releases", total: "total_release_count" },
  "release-groups": { kind: "release_group", key: "release_groups", total: "total_release_group_count" },
  recordings: { kind: "recording", key: "recordings", total: "total_recording_count" },
};

function rangeOf(req: Request): StatsRange {
  const range = typeof req.query.range === "string" ? req.query.range : "all_time";
  if (!isStatsRange(range)) throw new LbError(400, `Invalid range: ${range}`);
  return range;
}

/** get_non_negative_param: "'<name>' should be a non-negative integer". */
function nonNegative(req: Request, name: string, fallback: number): number {
  const value = req.query[name];
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !/^\s*\+?\d+\s*$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new LbError(400, `'${name}' should be a non-negative integer`);
  }
  return Number(value);
}

/**
 * ListenBrainz's statistics (/1/stats/...), always current: they are read from rollups the listen
 * inserts and deletes keep, so an empty result is a 200 with empty lists, never a 204.
 * A person's statistics follow their listen privacy; the sitewide ones (which count everyone's
 * listens) are for people signed in here.
 */
export function statsRoutes(deps: { listenStats: ListenStatsService; listenAccess: ListenAccessService }): Router {
  const { listenStats, listenAccess } = deps;
  const router = Router();

  const readable = async (req: Request, res: Response) => {
    const name = String(req.params.user);
    // The range is checked after the user, as LB does (an unknown user is a 404 whatever the range).
    const user = await listenAccess.readable(name, viewerId(res));
    if (!user) throw lbNotFoundUser(name);
    return { user, range: rangeOf(req) };
  };

  const top = async (scope: string, entity: (typeof ENTITIES)[string], req: Request, range: StatsRange) => {
    const offset = nonNegative(req, "offset", 0);
    const count = Math.min(nonNegative(req, "count", DEFAULT_ITEMS_PER_GET), MAX_ITEMS_PER_GET);
    const result = await listenStats.top(scope, entity.kind, range, { count, offset });
    const list = result.entities.map((e) => lbEntity(entity.kind, e));
    return { [entity.key]: list, count: list.length, [entity.total]: result.total, offset, ...lbRangeFields(range, result.bounds) };
  };

  router.get("/user/:user/listening-activity", handle(async (req, res) => {
    const { user, range } = await readable(req, res);
    const { buckets, bounds } = await listenStats.listeningActivity(user.id, range);
    return {
      payload: {
        user_id: user.username,
        listening_activity: buckets.map((b) => ({
          from_ts: Math.floor(b.from.getTime() / 1000),
          to_ts: Math.floor(b.to.getTime() / 1000) - 1,
          time_range: lbTimeRange(b.from, bounds.unit),
          listen_count: b.listenCount,
        })),
        ...lbRangeFields(range, bounds),
      },
    };
  }));

  router.get("/user/:user/daily-activity", handle(async (req, res) => {
    const { user, range } = await readable(req, res);
    const { hours, bounds } = await listenStats.dailyActivity(user.id, range);
    return { payload: { user_id: user.username, daily_activity: lbDailyActivity(hours), ...lbRangeFields(range, bounds) } };
  }));

  router.get("/user/:user/:entity", handle(async (req, res) => {
    const entity = ENTITIES[String(req.params.entity)];
    if (!entity) throw new LbError(404, URL_NOT_FOUND);
    const { user, range } = await readable(req, res);
    return { payload: { user_id: user.username, ...(await top(user.id, entity, req, range)) } };
  }));

  router.get("/sitewide/:entity", handle(async (req, res) => {
    const entity = ENTITIES[String(req.params.entity)];
    if (!entity) throw new LbError(404, URL_NOT_FOUND);
    if (!viewerId(res)) throw new LbError(401, "You need to provide an Authorization header.");
    return { payload: await top(SITEWIDE_SCOPE, entity, req, rangeOf(req)) };
  }));

  return router;
}
