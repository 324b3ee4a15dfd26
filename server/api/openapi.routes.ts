import { Router } from "express";
import { buildOpenApi, DOCS_PAGE, type Operation } from "../http/openapi.ts";
import type { ServerDeps } from "../deps.ts";
import { adminOperations } from "./admin.routes.ts";
import { blocksOperations } from "./blocks.routes.ts";
import { moderationOperations } from "./moderation.routes.ts";
import { authOperations } from "./auth.routes.ts";
import { catalogOperations } from "./catalog.routes.ts";
import { eventsOperations } from "./events.routes.ts";
import { followsOperations } from "./follows.routes.ts";
import { healthOperations } from "./health.routes.ts";
import { instanceOperations } from "./instance.routes.ts";
import { instanceFollowsOperations } from "./instance-follows.routes.ts";
import { analysisOperations } from "./analysis.routes.ts";
import { analysisRunOperations } from "./analysis-runs.routes.ts";
import { librariesOperations } from "./libraries.routes.ts";
import { mediaOperations } from "./media.routes.ts";
import { peopleOperations } from "./people.routes.ts";
import { meOperations } from "./me.routes.ts";
import { playlistsOperations } from "./playlists.routes.ts";
import { searchOperations } from "./search.routes.ts";
import { subsonicCredentialsOperations } from "./subsonic-credentials.routes.ts";
import { lastfmOperations } from "./lastfm.routes.ts";
import { listenSettingsOperations } from "./listen-settings.routes.ts";
import { listensOperations } from "./listens.routes.ts";
import { listenRelayOperations } from "./listen-relay.routes.ts";
import { listenTransferOperations } from "./listen-transfer.routes.ts";
import { uploadsOperations } from "./uploads.routes.ts";

export const OPERATIONS: Operation[] = [
  ...healthOperations,
  ...instanceOperations,
  ...authOperations,
  ...meOperations,
  ...adminOperations,
  ...instanceFollowsOperations,
  ...moderationOperations,
  ...blocksOperations,
  ...lastfmOperations,
  ...librariesOperations,
  ...analysisRunOperations,
  ...followsOperations,
  ...peopleOperations,
  ...uploadsOperations,
  ...mediaOperations,
  ...catalogOperations,
  ...analysisOperations,
  ...playlistsOperations,
  ...subsonicCredentialsOperations,
  ...listenSettingsOperations,
  ...listensOperations,
  ...listenRelayOperations,
  ...listenTransferOperations,
  ...searchOperations,
  ...eventsOperations,
];

/** GET /api/v1/openapi.json and the page that renders it, GET /api/docs. */
export function openApiRoutes(deps: ServerDeps): { api: Router; docs: Router } {
  const document = buildOpenApi(OPERATIONS, deps.config.http.publicUrl);
  const api = Router();
  api.get("/openapi.json", (_req, res) => void res.json(document));
  const docs = Router();
  docs.get("/docs", (_req, res) => void res.type("html").send(DOCS_PAGE));
  return { api, docs };
}
