import { Router } from "express";
import { z } from "zod";
import { NotFound } from "../../core/errors.ts";
import type { ListenRecord } from "../../core/listens/listen-history.service.ts";
import { STATS_RANGES } from "../../core/listens/listen-ranges.ts";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import type { Operation } from "../http/openapi.ts";
import type { ServerDeps } from "../deps.ts";

const historyQuery = z.strictObject({
  cursor: z.string().max(200).optional(),
  count: z.coerce.number().int().min(1).max(100).default(50),
});
const deleteBody = z.strictObject({
  listenedAt: z.number().int().min(0).max(2 ** 31),
  // Any UUID form: the msid is an md5 of the names, with no version bits.
  recordingMsid: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i),
});
const rangeQuery = z.strictObject({ range: z.enum(STATS_RANGES).default("all_time") });
const topQuery = z.strictObject({
  range: z.enum(STATS_RANGES).default("all_time"),
  kind: z.enum(["artist", "release", "release_group", "recording"]).default("artist"),
  count: z.coerce.number().int().min(1).max(100).default(10),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});
const username = z.string().trim().toLowerCase().min(1).max(100);

/** The web player's name as a player of now playing (one report a person and player). */
const WEB_PLAYER = "Polyphony web";
const statsPath = "/people/:username/listen-stats";
const hidden = "404 when the person does not exist or their listen privacy does not let you read them";

export const listensOperations: Operation[] = [
  {
    method: "get",
    path: "/me/listens",
    tag: "Listens",
    summary: "Your listens, newest first, a page at a time (`next` is the cursor of the following page, null at the end)",
    auth: true,
    query: historyQuery,
    returns: "`{ listens: [{ listenedAt, recordingMsid, trackName, artistName, releaseName, trackId, durationMs, source, client }], next }`",
  },
  {
    method: "delete",
    path: "/me/listens",
    tag: "Listens",
    summary: "Deletes one of your listens (its statistics and play count go with it)",
    auth: true,
    body: deleteBody,
    returns: "204; 404 when you have no such listen",
  },
  {
    method: "get",
    path: `${statsPath}/top`,
    tag: "Listens",
    summary: "A person's most listened artists, releases, release groups or recordings in a ListenBrainz range (live)",
    auth: true,
    query: topQuery,
    returns: `\`{ range, from, to, total, entities: [{ name, artistName, releaseName, mbid, listenCount }] }\`; ${hidden}`,
  },
  {
    method: "get",
    path: `${statsPath}/activity`,
    tag: "Listens",
    summary: "A person's listens per day, month or year over the range and the period before it",
    auth: true,
    query: rangeQuery,
    returns: `\`{ range, unit, from, to, buckets: [{ from, to, listenCount }] }\`; ${hidden}`,
  },
  {
    method: "get",
    path: `${statsPath}/daily`,
    tag: "Listens",
    summary: "A person's listens per weekday (1 = Monday) and UTC hour in the range",
    auth: true,
    query: rangeQuery,
    returns: `\`{ range, from, to, hours: [{ weekday, hour, listenCount }] }\` (hours with listens only); ${hidden}`,
  },
  {
    method: "post",
    path: "/tracks/:id/now-playing",
    tag: "Listens",
    summary: "The web player started playing this track: your now playing until its end (no play is counted)",
    auth: true,
    status: 204,
    returns: "204; 404 for a track you may not see",
  },
  {
    method: "get",
    path: "/now-playing",
    tag: "Listens",
    summary: "What the people here who share their listens play now (and what you play), newest first; live updates are the `now_playing` events",
    auth: true,
    returns: "`[{ username, trackName, artistName, releaseName, trackId, durationMs, client, startedAt, expiresAt }]`",
  },
];

const listenDto = (l: ListenRecord) => ({
  listenedAt: Math.floor(l.listenedAt.getTime() / 1000),
  recordingMsid: l.recordingMsid,
  trackName: l.trackName,
  artistName: l.artistName,
  releaseName: l.releaseName,
  trackId: l.trackId,
  durationMs: l.durationMs,
  source: l.source,
  client: l.client,
});

/** The web UI's listening history, statistics and now playing (the web player's too); statistics follow the person's listen privacy. */
export function listensRoutes(deps: Pick<ServerDeps, "listenAccess" | "listenHistory" | "listenStats" | "nowPlaying" | "listens">): Router {
  const router = Router();
  const { listenAccess, listenHistory, listenStats, nowPlaying, listens } = deps;

  /** The listener whose statistics the caller asked for, if the caller may read them; else 404 as for nobody. */
  const readable = async (name: unknown, viewerId: string) => {
    const listener = await listenAccess.readable(parse(username, name), viewerId);
    if (!listener) throw new NotFound("person");
    return listener;
  };

  router.get("/me/listens", requireUser, handle(async (req, res) => {
    const q = parse(historyQuery, req.query);
    const page = await listenHistory.page(currentAuth(res).user.id, q);
    return { listens: page.listens.map(listenDto), next: page.next };
  }));
  router.delete("/me/listens", requireUser, handle(async (req, res) => {
    const { listenedAt, recordingMsid } = parse(deleteBody, req.body);
    if (!(await listenHistory.delete(currentAuth(res).user.id, listenedAt, recordingMsid))) throw new NotFound("listen");
  }));
  router.get(`${statsPath}/top`, requireUser, handle(async (req, res) => {
    const listener = await readable(req.params.username, currentAuth(res).user.id);
    const q = parse(topQuery, req.query);
    const top = await listenStats.top(listener.id, q.kind, q.range, q);
    return {
      range: q.range,
      from: top.bounds.from.toISOString(),
      to: top.bounds.to.toISOString(),
      total: top.total,
      entities: top.entities.map((e) => ({ name: e.name, artistName: e.artistName, releaseName: e.releaseName, mbid: e.mbid, listenCount: e.listenCount })),
    };
  }));
  router.get(`${statsPath}/activity`, requireUser, handle(async (req, res) => {
    const listener = await readable(req.params.username, currentAuth(res).user.id);
    const { range } = parse(rangeQuery, req.query);
    const { buckets, bounds } = await listenStats.listeningActivity(listener.id, range);
    return {
      range,
      unit: bounds.unit,
      from: bounds.from.toISOString(),
      to: bounds.to.toISOString(),
      buckets: buckets.map((b) => ({ from: b.from.toISOString(), to: b.to.toISOString(), listenCount: b.listenCount })),
    };
  }));
  router.get(`${statsPath}/daily`, requireUser, handle(async (req, res) => {
    const listener = await readable(req.params.username, currentAuth(res).user.id);
    const { range } = parse(rangeQuery, req.query);
    const { hours, bounds } = await listenStats.dailyActivity(listener.id, range);
    return { range, from: bounds.from.toISOString(), to: bounds.to.toISOString(), hours };
  }));
  router.post("/tracks/:id/now-playing", requireUser, handle(async (req, res) => {
    await listens.setNowPlaying(currentAuth(res).user.id, pathId(req.params.id, "track"), WEB_PLAYER, "web");
  }));
  router.get("/now-playing", requireUser, handle(async (_req, res) => nowPlaying.visibleTo(currentAuth(res).user.id)));
  return router;
}
