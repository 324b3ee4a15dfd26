import path from "node:path";
import express, { Router, type NextFunction, type Request, type Response } from "express";
import { getLogger } from "../../config/logging.ts";
import { isBadValueError } from "../../core/db/bad-value.ts";
import { Forbidden, Invalid, NotFound, RemoteUnavailable } from "../../core/errors.ts";
import { clientWentAway, goneReason } from "../http/client-gone.ts";
import type { ServerDeps } from "../deps.ts";
import { AnswerCache, keptAnswer, sendKept } from "./answer-cache.ts";
import { authenticateSubsonic, type SubsonicAuthDeps } from "./auth.ts";
import { FailedAttempts } from "./failed-attempts.ts";
import { browsingHandlers } from "./browsing.handlers.ts";
import type { SubsonicHandler, SubsonicServices } from "./context.ts";
import { annotationHandlers } from "./annotation.handlers.ts";
import { folderHandlers } from "./folders.handlers.ts";
import { infoHandlers } from "./info.handlers.ts";
import { listeningHandlers } from "./listening.handlers.ts";
import { listHandlers } from "./lists.handlers.ts";
import { mediaHandlers } from "./media.handlers.ts";
import { ExpressMediaReply, type MediaReplyDeps } from "./media-reply.ts";
import { playlistHandlers } from "./playlists.handlers.ts";
import { searchHandlers } from "./search.handlers.ts";
import { userHandlers } from "./user.handlers.ts";
import { formatOf, Params } from "./params.ts";
import { errorBody, okBody, send, SubsonicError, type Format } from "./response.ts";
import { EXTENSIONS, systemHandlers } from "./system.handlers.ts";

const log = getLogger(["polyphony", "subsonic"]);

const HANDLERS: Record<string, SubsonicHandler> = {
  ...systemHandlers,
  ...browsingHandlers,
  ...mediaHandlers,
  ...listHandlers,
  ...annotationHandlers,
  ...playlistHandlers,
  ...userHandlers,
  ...searchHandlers,
  ...folderHandlers,
  ...listeningHandlers,
  ...infoHandlers,
};

function toSubsonicError(error: unknown): SubsonicError {
  if (error instanceof SubsonicError) return error;
  if (error instanceof NotFound) return new SubsonicError(70, error.message);
  if (error instanceof Forbidden) return new SubsonicError(50, error.message);
  if (error instanceof Invalid) return new SubsonicError(0, error.message);
  // Another server's failure (a remote track's audio): logged where it happened; the message says what to do.
  if (error instanceof RemoteUnavailable) return new SubsonicError(0, error.message);
  if (isBadValueError(error)) {
    // The safety net caught what parameter checks should have refused: worth a look, not a page.
    log.warning("Bad input reached the database: {error}", { error });
    return new SubsonicError(0, "A parameter holds a value the server cannot take");
  }
  log.error("Subsonic request failed: {error}", { error });
  return new SubsonicError(0, "The server could not answer this request");
}

/** `/rest/<method>` and `/rest/<method>.view`, GET or form POST; every error is HTTP 200 with an envelope. */
export function subsonicRouter(deps: ServerDeps): Router {
  const router = Router();
  const auth: SubsonicAuthDeps = { credentials: deps.subsonicCredentials, ...deps.subsonicLimits, failures: new FailedAttempts() };
  // Picked once from the composition root's services: a request adds only its own context.
  const services: SubsonicServices = {
    catalog: deps.catalog,
    subsonicCatalog: deps.subsonicCatalog,
    userData: deps.userData,
    listens: deps.listens,
    playQueue: deps.playQueue,
    playlists: deps.playlists,
    search: deps.search,
    scans: deps.scans,
    accounts: deps.accounts,
    uploads: deps.uploads,
    playback: deps.playback,
    covers: deps.covers,
    transcoder: deps.transcoder,
    publicUrl: deps.config.http.publicUrl,
  };
  const media: MediaReplyDeps = {
    serving: deps.config.media.serving,
    coversDir: path.join(deps.config.mediaDir, "covers"),
    transcoder: deps.transcoder,
  };
  const answers = new AnswerCache();

  // formPost: the same parameters as a urlencoded body (long id lists); kept raw and merged by Params.
  router.use(express.raw({ type: "application/x-www-form-urlencoded", limit: "1mb" }));
  router.use(async (req, res, next) => {
    const method = /^\/([A-Za-z0-9]+)(?:\.view)?$/.exec(req.path)?.[1];
    if (!method || !["GET", "HEAD", "POST"].includes(req.method)) return next();
    const params = new Params(req);
    const { format, error } = formatOf(params);
    if (error) return send(res, format, errorBody(error));
    try {
      params.rejectNul();
      if (method === "getOpenSubsonicExtensions") return send(res, format, okBody({ openSubsonicExtensions: EXTENSIONS }));
      const user = await authenticateSubsonic(auth, params, req.ip ?? "unknown");
      // Own keys only: `constructor` or `toString` are no methods of ours.
      const handler = Object.hasOwn(HANDLERS, method) ? HANDLERS[method] : undefined;
      if (!handler) throw new SubsonicError(0, `Unknown method '${method}'`);
      const ctx = { params, format, user, services, reply: new ExpressMediaReply(req, res, media) };
      const question = answers.question(method, params, format, user);
      if (question) {
        const kept = await answers.answer(question.key, async () => {
          const result = await handler({ ...ctx, params: question.params });
          if (result === "sent") throw new Error(`${method} wrote its own answer, which cannot be kept`);
          return keptAnswer(format, okBody(result));
        });
        return await sendKept(req, res, kept);
      }
      const result = await handler(ctx);
      if (result !== "sent") send(res, format, okBody(result));
    } catch (caught) {
      if (clientWentAway(caught, req)) {
        log.debug("Client went away during {method} ({reason})", { method, reason: goneReason(caught) });
        return;
      }
      fail(res, format, caught);
    }
  });
  // Body parser failures (a body over 1 MB, a bad charset) still answer in Subsonic's shape.
  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    fail(res, formatOf(new Params(req)).format, new SubsonicError(0, (error as Error).message ?? "Bad request"));
  });
  return router;
}

function fail(res: Response, format: Format, caught: unknown): void {
  const error = toSubsonicError(caught);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A binary endpoint may have set headers for the file it meant to send.
  for (const name of ["Content-Disposition", "Content-Length", "Content-Range", "ETag", "Last-Modified", "Cache-Control"]) {
    res.removeHeader(name);
  }
  send(res, format, errorBody(error));
}
