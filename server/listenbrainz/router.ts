import { Router } from "express";
import type { ApiTokenService } from "../../core/accounts/api-tokens.service.ts";
import type { SessionService } from "../../core/accounts/sessions.service.ts";
import type { ListenAccessService } from "../../core/listens/listen-access.service.ts";
import type { ListenHistoryService } from "../../core/listens/listen-history.service.ts";
import type { ListenIngest } from "../../core/listens/listen-ingest.ts";
import type { ListenStatsService } from "../../core/listens/listen-stats.service.ts";
import { authenticate } from "../http/auth.ts";
import { lbErrorHandler, lbNotFound, lbRateLimit, resolveListener, type LbRateLimits } from "./lb-http.ts";
import { listensRoutes } from "./listens.routes.ts";
import { statsRoutes } from "./stats.routes.ts";

export interface ListenBrainzDeps {
  sessions: SessionService;
  tokens: ApiTokenService;
  cookieName: string;
  listenIngest: ListenIngest;
  listenHistory: ListenHistoryService;
  listenAccess: ListenAccessService;
  listenStats: ListenStatsService;
  limits: LbRateLimits;
}

/**
 * The ListenBrainz-compatible API (mounted at /1): scrobblers and players with a custom ListenBrainz URL
 * submit and read listens with `Authorization: Token <listen token>`; the web UI reads with its
 * session. Errors, limits and rate-limit headers as ListenBrainz's.
 */
export function listenBrainzRouter(deps: ListenBrainzDeps): Router {
  const router = Router();
  router.use(resolveListener(deps.listenAccess));
  // The web UI's session (or an API bearer token) also says who reads.
  router.use(authenticate({ sessions: deps.sessions, tokens: deps.tokens, cookieName: deps.cookieName }));
  router.use(lbRateLimit(deps.limits));
  router.use(listensRoutes(deps));
  router.use("/stats", statsRoutes(deps));
  router.use(lbNotFound);
  router.use(lbErrorHandler);
  return router;
}
