import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";
import { getLogger, withContext } from "../../config/logging.ts";

const log = getLogger(["polyphony", "http", "access"]);
const SAFE_REQUEST_ID = /^[\w.-]{8,64}$/;

/**
 * Gives every request an id (a proxy's X-Request-Id is kept when it looks sane) and runs the rest of the
 * chain inside a LogTape context, so every line logged for this request carries it.
 * The access line logs the path only: query strings may hold credentials (Subsonic's `p`, `t`, `s`).
 */
export const requestContext: RequestHandler = (req, res, next) => {
  const incoming = req.get("x-request-id");
  const requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader("X-Request-Id", requestId);
  const started = process.hrtime.bigint();
  const path = req.path;
  withContext({ requestId }, () => {
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info("{method} {path} {status} {ms}ms", {
        requestId,
        method: req.method,
        path,
        status: res.statusCode,
        ms: Math.round(ms * 10) / 10,
      });
    });
    next();
  });
};
