import path from "node:path";
import { existsSync } from "node:fs";
import express, { type Express } from "express";
import { RequestContext } from "@mikro-orm/core";
import { authenticate, sessionCookieName } from "./http/auth.ts";
import { apiNotFound, errorHandler } from "./http/errors.ts";
import { fedifyMiddleware } from "./http/fedify-middleware.ts";
import { inboxGuard } from "./http/inbox-guard.ts";
import { federationGate } from "./http/federation-gate.ts";
import { funkwhaleInbox } from "./http/funkwhale-inbox.ts";
import { federationRateLimit } from "./http/federation-rate-limit.ts";
import { rejectMalformedUrl, rejectNulInBody } from "./http/input-guards.ts";
import { nodeInfoRoutes } from "./http/nodeinfo.routes.ts";
import { federationDocumentRoutes } from "./http/federation-documents.routes.ts";
import { federationMediaRoutes } from "./http/federation-media.routes.ts";
import { libraryCollectionRoutes } from "./http/library-collection.routes.ts";
import { playlistCollectionRoutes } from "./http/playlist-collection.routes.ts";
import { requestSigner } from "./http/request-signer.ts";
import { requestContext } from "./http/request-context.ts";
import { webUiRoutes } from "./http/web-ui.ts";
import { adminRoutes } from "./api/admin.routes.ts";
import { moderationRoutes } from "./api/moderation.routes.ts";
import { blocksRoutes } from "./api/blocks.routes.ts";
import { authRoutes } from "./api/auth.routes.ts";
import { healthRoutes } from "./api/health.routes.ts";
import { catalogRoutes } from "./api/catalog.routes.ts";
import { eventsRoutes } from "./api/events.routes.ts";
import { followsRoutes } from "./api/follows.routes.ts";
import { peopleRoutes } from "./api/people.routes.ts";
import { instanceFollowsRoutes } from "./api/instance-follows.routes.ts";
import { instanceRoutes } from "./api/instance.routes.ts";
import { analysisRoutes } from "./api/analysis.routes.ts";
import { analysisRunRoutes } from "./api/analysis-runs.routes.ts";
import { librariesRoutes } from "./api/libraries.routes.ts";
import { mediaRoutes } from "./api/media.routes.ts";
import { meRoutes } from "./api/me.routes.ts";
import { openApiRoutes } from "./api/openapi.routes.ts";
import { playlistsRoutes } from "./api/playlists.routes.ts";
import { searchRoutes } from "./api/search.routes.ts";
import { uploadsRoutes } from "./api/uploads.routes.ts";
import { subsonicCredentialsRoutes } from "./api/subsonic-credentials.routes.ts";
import { listenSettingsRoutes } from "./api/listen-settings.routes.ts";
import { listensRoutes } from "./api/listens.routes.ts";
import { listenRelayRoutes } from "./api/listen-relay.routes.ts";
import { listenTransferRoutes } from "./api/listen-transfer.routes.ts";
import { subsonicRouter } from "./subsonic/router.ts";
import { lastfmRoutes } from "./api/lastfm.routes.ts";
import { audioscrobblerRouter } from "./lastfm/audioscrobbler.router.ts";
import { lastfmAuthRedirect, lastfmRouter } from "./lastfm/lastfm.router.ts";
import { listenBrainzRouter } from "./listenbrainz/router.ts";
import type { ServerDeps } from "./deps.ts";

/**
 * Middleware order matters: request context first; the REST API (with its own JSON body parser) before
 * Fedify, so Fedify sees raw bodies for inbox signatures and never eats an API body; the web UI's files
 * before Fedify and its index.html fallback last (see web-ui.ts).
 */
export function createApp(deps: ServerDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", deps.config.http.trustProxy);
  app.use(requestContext);
  app.use(rejectMalformedUrl);
  app.use((_req, _res, next) => RequestContext.create(deps.db.orm.em, next));

  const api = express.Router();
  api.use(express.json({ limit: deps.config.http.jsonBodyLimitBytes, strict: true }));
  api.use(rejectNulInBody);
  api.use(authenticate({ sessions: deps.sessions, tokens: deps.tokens, cookieName: sessionCookieName(deps.config.http.publicUrl) }));
  const openApi = openApiRoutes(deps);
  api.use(openApi.api);
  api.use(healthRoutes(deps));
  api.use(instanceRoutes(deps));
  api.use(eventsRoutes({ events: deps.events.streams }));
  api.use("/auth", authRoutes(deps));
  api.use("/admin", instanceFollowsRoutes(deps));
  api.use("/admin", adminRoutes(deps));
  api.use("/admin", moderationRoutes(deps));
  api.use(blocksRoutes(deps));
  api.use(meRoutes(deps));
  api.use(subsonicCredentialsRoutes(deps));
  api.use(lastfmRoutes(deps));
  api.use(listenSettingsRoutes(deps));
  api.use(listensRoutes(deps));
  api.use(listenRelayRoutes(deps));
  api.use(listenTransferRoutes(deps));
  api.use(analysisRoutes(deps));
  api.use("/libraries", librariesRoutes(deps));
  api.use("/libraries", analysisRunRoutes(deps));
  api.use(followsRoutes(deps));
  api.use(peopleRoutes(deps));
  api.use("/playlists", playlistsRoutes(deps));
  api.use(uploadsRoutes(deps));
  api.use(mediaRoutes(deps));
  api.use(catalogRoutes(deps));
  api.use(searchRoutes(deps));
  api.use(apiNotFound);
  app.use("/api/v1", api);
  app.use(lastfmAuthRedirect());
  app.use("/api", openApi.docs);
  app.use("/api", apiNotFound);
  app.use("/rest", subsonicRouter(deps));
  // Scrobblers: Last.fm's /2.0/, and AudioScrobbler 1.2, whose handshake may come to "/" (before the web UI).
  const publicUrl = deps.config.http.publicUrl;
  app.use(lastfmRouter({ ...deps.lastfm, publicUrl }));
  app.use(audioscrobblerRouter({ ...deps.lastfm, publicUrl }));
  app.use("/1", listenBrainzRouter({
    ...deps,
    cookieName: sessionCookieName(deps.config.http.publicUrl),
    limits: deps.listenBrainzLimits,
  }));

  const webDir = deps.config.webDir;
  const webUi = existsSync(path.join(webDir, "index.html")) ? webUiRoutes(webDir, deps.config.http.publicUrl) : undefined;
  if (webUi) app.use(webUi.files);

  app.use(federationRateLimit(deps.federationLimiter));
  // A server we do not federate with is refused before anything reads what it signed.
  app.use(federationGate(deps.moderation.policy));
  app.use(nodeInfoRoutes(deps.federation, deps.config.http.publicUrl));
  // What other servers read of ours: documents and media, by who signed the request (authorized fetch).
  const signer = requestSigner({ remoteActors: deps.remoteActors, publicUrl });
  app.use(libraryCollectionRoutes({ db: deps.db, publicUrl, signer }));
  app.use(playlistCollectionRoutes({ db: deps.db, publicUrl, signer }));
  app.use(federationDocumentRoutes({ db: deps.db, publicUrl, signer }));
  app.use(federationMediaRoutes({ db: deps.db, config: deps.config, uploads: deps.uploads, signer }));
  app.use(inboxGuard({
    limitBytes: deps.config.http.jsonBodyLimitBytes,
    isLocalActor: async (identifier) => (await deps.actors.findPublished(deps.db.orm.em.fork(), identifier)) !== null,
    policy: deps.moderation.policy,
    isBlockedBy: deps.moderation.isBlockedBy,
  }));
  // Funkwhale's library activities, which Fedify's inbox would drop, from the body the guard has read.
  app.use(funkwhaleInbox({ db: deps.db, remoteActors: deps.remoteActors, publicUrl }));
  app.use(fedifyMiddleware(deps.federation, deps.config.http.publicUrl));

  if (webUi) {
    app.use(webUi.fallback);
  } else {
    app.get("/", (_req, res) => res.type("html").send(PLACEHOLDER_PAGE));
  }
  app.use(errorHandler);
  return app;
}

const PLACEHOLDER_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Polyphony</title></head>
<body><h1>Polyphony is running</h1><p>The web UI has not been built; the API is at <code>/api/v1</code>.</p></body></html>`;
