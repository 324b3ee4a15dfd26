import { Router } from "express";
import { currentAuth } from "../http/auth.ts";
import type { EventStreams } from "../http/event-streams.ts";
import type { Operation } from "../http/openapi.ts";

export const eventsOperations: Operation[] = [
  {
    method: "get",
    path: "/events",
    tag: "Live events",
    summary:
      "Server-sent events: `upload` when an upload of one of your libraries is created or changes status; `follow` when someone asks to follow one of your libraries (or stops), or when your own follow is answered; `catalog` when the music of a library you follow on another server changed here (a scan, its live updates); `listens` when listens of yours were added (from any player or scrobbler) or deleted; `now_playing` when what someone plays now changes (yours, and that of everyone here whose listen privacy is not private); `analysis` when a track of one of your libraries was analysed",
    auth: true,
    returns:
      "text/event-stream: `event: upload` with `{ id, libraryId, batchId, status, error, trackId }`; `event: follow` with `{ id, libraryId, side: follower|following, state: pending|accepted|rejected|removed }`; `event: catalog` with `{ libraryId }`; `event: listens` with `{}`; `event: analysis` with `{ libraryId }`; `event: now_playing` with `{ username, playing: { trackName, artistName, releaseName, trackId, durationMs, client, startedAt, expiresAt } | null }`; `: ping` every 25 s",
  },
];

/** GET /api/v1/events: the caller's live stream (see EventStreams). */
export function eventsRoutes(deps: { events: EventStreams }): Router {
  const router = Router();
  router.get("/events", (req, res) => {
    deps.events.open(currentAuth(res).user.id, req, res);
  });
  return router;
}
