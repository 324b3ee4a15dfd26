import express, { Router, type Request } from "express";
import type { ListenAccessService } from "../../core/listens/listen-access.service.ts";
import type { ListenHistoryService } from "../../core/listens/listen-history.service.ts";
import type { ListenIngest } from "../../core/listens/listen-ingest.ts";
import { MAX_LISTEN_PAYLOAD_SIZE, parseListenBrainzSubmission } from "../../core/listens/listenbrainz-submission.ts";
import { Invalid } from "../../core/errors.ts";
import { handle } from "../http/handle.ts";
import { LbError, lbNotFoundUser, listenToken, requireListener, viewerId } from "./lb-http.ts";
import { lbListen, lbPlayingNow } from "./lb-shapes.ts";

const DEFAULT_ITEMS_PER_GET = 25;
const MAX_ITEMS_PER_GET = 1000;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
// Services ListenBrainz knows for latest-import (ExternalServiceType), by their lower-case names.
const IMPORT_SERVICES = new Set(["lastfm", "librefm", "spotify", "listenbrainz", "maloja", "panoscrobbler", "audioscrobbler", "spinitron", "critiquebrainz", "musicbrainz", "soundcloud", "apple", "funkwhale", "navidrome", "libre.fm"]);

/** Python's int() of a query value: digits with an optional sign; "Invalid <name> argument: <value>" else. */
function intArg(req: Request, name: string): number | undefined {
  const value = req.query[name];
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string" || !/^\s*[-+]?\d+\s*$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new LbError(400, `Invalid ${name} argument: ${String(value)}`);
  }
  return Number(value);
}

/** A JSON body, or ListenBrainz's 400 (delete-listen, latest-import). */
function jsonBody(raw: unknown): Record<string, unknown> {
  if (!Buffer.isBuffer(raw) || !raw.length) throw new LbError(400, "Invalid JSON document submitted.");
  try {
    const data = JSON.parse(raw.toString("utf8"));
    if (typeof data === "object" && data !== null && !Array.isArray(data)) return data;
  } catch { /* answered below */ }
  throw new LbError(400, "Invalid JSON document submitted.");
}

export interface ListensRoutesDeps {
  listenIngest: ListenIngest;
  listenHistory: ListenHistoryService;
  listenAccess: ListenAccessService;
}

/** Submitting, reading and deleting listens, now playing, tokens and the import watermark (ListenBrainz /1/). */
export function listensRoutes(deps: ListensRoutesDeps): Router {
  const { listenIngest, listenHistory, listenAccess } = deps;
  const router = Router();
  // Bodies as bytes: submit-listens' size limits are on the bytes sent; a little over its cap still gets LB's 400.
  const raw = express.raw({ type: () => true, limit: MAX_LISTEN_PAYLOAD_SIZE + 65_536 });

  /** The user named in the path, if the viewer may read their listens; else "Cannot find user" as for nobody. */
  const readable = async (req: Request, res: express.Response) => {
    const name = String(req.params.user);
    return (await listenAccess.readable(name, viewerId(res))) ?? Promise.reject(lbNotFoundUser(name));
  };

  router.post("/submit-listens", raw, handle(async (req, res) => {
    const listener = requireListener(req, res);
    let submission;
    try {
      submission = parseListenBrainzSubmission(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    } catch (error) {
      if (error instanceof Invalid) throw new LbError(400, error.message);
      throw error;
    }
    if (submission.type === "playing_now") {
      await listenIngest.playingNow(listener.id, submission.listens[0]!, "listenbrainz");
    } else {
      await listenIngest.submit(listener.id, submission.listens, "listenbrainz");
    }
    return { status: "ok" };
  }));

  router.get("/validate-token", handle(async (req) => {
    const token = listenToken(req) ?? (typeof req.query.token === "string" ? req.query.token : "");
    if (!token) throw new LbError(400, "You need to provide an Authorization token.");
    const listener = await listenAccess.authenticate(token);
    return listener
      ? { code: 200, message: "Token valid.", valid: true, user_name: listener.username }
      : { code: 200, message: "Token invalid.", valid: false };
  }));

  router.get("/user/:user/listens", handle(async (req, res) => {
    const user = await readable(req, res);
    const maxTs = intArg(req, "max_ts");
    const minTs = intArg(req, "min_ts");
    if (maxTs !== undefined && minTs !== undefined && maxTs < minTs) throw new LbError(400, "max_ts should be greater than min_ts");
    const count = Math.min(intArg(req, "count") ?? DEFAULT_ITEMS_PER_GET, MAX_ITEMS_PER_GET);
    if (count < 0) throw new LbError(400, "Number of items requested should be positive");
    if (minTs !== undefined && maxTs !== undefined && minTs >= maxTs) throw new LbError(400, "min_ts should be less than max_ts");
    const [listens, summary] = await Promise.all([listenHistory.listens(user.id, { minTs, maxTs, count }), listenHistory.summary(user.id)]);
    return {
      payload: {
        user_id: user.username,
        count: listens.length,
        listens: listens.map((l) => lbListen(l, user.username)),
        latest_listen_ts: summary.latest ? Math.floor(summary.latest.getTime() / 1000) : 0,
        oldest_listen_ts: summary.oldest ? Math.floor(summary.oldest.getTime() / 1000) : 0,
      },
    };
  }));

  router.get("/user/:user/listen-count", handle(async (req, res) => {
    const user = await readable(req, res);
    return { payload: { count: (await listenHistory.summary(user.id)).count } };
  }));

  router.get("/user/:user/playing-now", handle(async (req, res) => {
    const user = await readable(req, res);
    const now = await listenHistory.playingNow(user.id);
    return { payload: { count: now ? 1 : 0, user_id: user.username, playing_now: true, listens: now ? [lbPlayingNow(now)] : [] } };
  }));

  router.post("/delete-listen", raw, handle(async (req, res) => {
    const listener = requireListener(req, res);
    const data = jsonBody(req.body);
    if (!("listened_at" in data)) throw new LbError(400, "Listen timestamp missing.");
    const listenedAt = Number(data.listened_at);
    if (!Number.isSafeInteger(listenedAt)) throw new LbError(400, `${String(data.listened_at)}: Listen timestamp invalid.`);
    if (!("recording_msid" in data)) throw new LbError(400, "Recording MSID missing.");
    const msid = data.recording_msid;
    if (typeof msid !== "string" || !UUID.test(msid)) throw new LbError(400, `${String(msid)}: Recording MSID format invalid.`);
    // LB deletes at the top of the hour; we delete now (statistics included), and answer ok either way.
    await listenHistory.delete(listener.id, listenedAt, msid);
    return { status: "ok" };
  }));

  router.get("/latest-import", handle(async (req, res) => {
    const name = typeof req.query.user_name === "string" ? req.query.user_name : "";
    const service = typeof req.query.service === "string" ? req.query.service : "lastfm";
    if (!IMPORT_SERVICES.has(service.toLowerCase())) throw new LbError(404, `Service does not exist: ${service}`);
    const user = await listenAccess.readable(name, viewerId(res));
    if (!user) throw lbNotFoundUser(name);
    return { musicbrainz_id: user.username, latest_import: await listenHistory.latestImport(user.id, service.toLowerCase()) };
  }));

  router.post("/latest-import", raw, handle(async (req, res) => {
    const listener = requireListener(req, res);
    const data = jsonBody(req.body);
    const ts = Number(data.ts ?? 0);
    const service = typeof data.service === "string" ? data.service.toLowerCase() : data.service === undefined ? "lastfm" : "";
    if (!Number.isSafeInteger(ts) || ts < 0 || ts > 2 ** 40 || !IMPORT_SERVICES.has(service)) throw new LbError(400, "Invalid data sent");
    await listenHistory.setLatestImport(listener.id, service, ts);
    return { status: "ok" };
  }));

  return router;
}
