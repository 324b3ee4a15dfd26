import express, { Router, type ErrorRequestHandler, type Response } from "express";
import { getLogger } from "../../config/logging.ts";
import { RateLimited } from "../../core/errors.ts";
import type { AudioscrobblerService } from "../../core/lastfm/audioscrobbler.service.ts";
import { LastfmError } from "../../core/lastfm/lastfm-error.ts";
import { parseNowPlaying, parseScrobbles } from "../../core/lastfm/scrobble-params.ts";
import type { ListenSink } from "../../core/listens/listen-submission.ts";
import type { RateLimiter } from "../../core/rate-limit/rate-limiter.ts";
import { AUDIOSCROBBLER_SOURCE } from "./listen-source.ts";

const log = getLogger(["polyphony", "audioscrobbler"]);

export interface AudioscrobblerDeps {
  audioscrobbler: AudioscrobblerService;
  sink: ListenSink;
  limiter: RateLimiter;
  publicUrl: URL;
}

/** Where the handshake sends players next. */
export const NOW_PLAYING_PATH = "/audioscrobbler/np_1.2";
export const SUBMISSION_PATH = "/audioscrobbler/protocol_1.2";

/** AudioScrobbler 1.2's field letters, as track.scrobble names them (parseScrobbles reads those). */
const FIELDS: Record<string, string> = { a: "artist", t: "track", i: "timestamp", b: "album", l: "duration", n: "trackNumber", m: "mbid" };

/**
 * AudioScrobbler 1.2 (and 1.2.1) for older players: the handshake (`?hs=true`, at `/` and at
 * `/audioscrobbler/`), then `np_1.2` and `protocol_1.2` form posts with the session it gave. Every
 * answer is plain text: OK, BADAUTH, BADTIME, BADSESSION or FAILED <reason>, one per line.
 */
export function audioscrobblerRouter(deps: AudioscrobblerDeps): Router {
  const router = Router();
  const { audioscrobbler, sink } = deps;
  const reply = (res: Response, ...lines: string[]) => void res.type("text/plain; charset=utf-8").send(`${lines.join("\n")}\n`);

  router.get(["/", "/audioscrobbler", "/audioscrobbler/"], async (req, res, next) => {
    const q = strings(req.query);
    if (q.hs !== "true") return next();
    try {
      await deps.limiter.consume(`lastfm:${req.ip ?? "unknown"}`);
      if (q.p !== "1.2" && q.p !== "1.2.1") return reply(res, "FAILED Unsupported protocol version (this server speaks 1.2 and 1.2.1)");
      if (!q.u || !q.t || !q.a) return reply(res, "FAILED Missing parameters: u, t and a are required");
      const input = { username: q.u, timestamp: q.t, token: q.a, client: q.c ?? null };
      const result = q.api_key || q.sk
        ? await audioscrobbler.handshakeWithSessionKey({ ...input, apiKey: q.api_key ?? "", sessionKey: q.sk ?? "" })
        : await audioscrobbler.handshake(input);
      if (!result.ok) return reply(res, result.reason);
      reply(res, "OK", result.sessionId, new URL(NOW_PLAYING_PATH, deps.publicUrl).href, new URL(SUBMISSION_PATH, deps.publicUrl).href);
    } catch (error) {
      failed(res, error, reply);
    }
  });

  const form = express.urlencoded({ extended: false, limit: "128kb", parameterLimit: 1000 });
  router.post(NOW_PLAYING_PATH, form, async (req, res) => {
    try {
      const f = strings(req.body);
      await deps.limiter.consume(`lastfm:${req.ip ?? "unknown"}`);
      const session = f.s ? await audioscrobbler.sessionUser(f.s) : null;
      if (!session) return reply(res, "BADSESSION");
      const { fields, ignored } = parseNowPlaying(renamed(f, ""));
      if (!ignored) await sink.playingNow(session.id, { ...fields, client: session.client }, AUDIOSCROBBLER_SOURCE);
      reply(res, "OK");
    } catch (error) {
      failed(res, error, reply);
    }
  });

  router.post(SUBMISSION_PATH, form, async (req, res) => {
    try {
      const f = strings(req.body);
      await deps.limiter.consume(`lastfm:${req.ip ?? "unknown"}`);
      const session = f.s ? await audioscrobbler.sessionUser(f.s) : null;
      if (!session) return reply(res, "BADSESSION");
      const mapped = renamed(f, "indexed");
      // r[i]=S marks a track skipped on Last.fm radio: not a listen.
      for (const name of Object.keys(f)) {
        const skip = /^r\[(\d+)\]$/.exec(name);
        if (skip && f[name] === "S") for (const field of Object.values(FIELDS)) delete mapped[`${field}[${skip[1]}]`];
      }
      const listens = parseScrobbles(mapped).flatMap((s) => (s.listen ? [{ ...s.listen, client: session.client }] : []));
      if (listens.length) await sink.submit(session.id, listens, AUDIOSCROBBLER_SOURCE);
      reply(res, "OK");
    } catch (error) {
      failed(res, error, reply);
    }
  });

  const badBody: ErrorRequestHandler = (_error, _req, res, _next) => reply(res, "FAILED The request body cannot be read");
  router.use([NOW_PLAYING_PATH, SUBMISSION_PATH], badBody);
  return router;
}

/** Single-valued string parameters only: a repeated one, or one holding U+0000, is left out (and then missing). */
function strings(source: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries((source && typeof source === "object" ? source : {}) as Record<string, unknown>)) {
    if (typeof value === "string" && !value.includes("\u0000")) out[name] = value;
  }
  return out;
}

/** `a[0]` → `artist[0]` (indexed), `a` → `artist` (now playing). */
function renamed(form: Record<string, string>, shape: "indexed" | ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(form)) {
    const match = shape === "indexed" ? /^([a-z])\[(\d+)\]$/.exec(name) : /^([a-z])()$/.exec(name);
    const field = match && FIELDS[match[1]!];
    if (field) out[shape === "indexed" ? `${field}[${match[2]}]` : field] = value;
  }
  return out;
}

function failed(res: Response, error: unknown, reply: (res: Response, ...lines: string[]) => void): void {
  if (error instanceof LastfmError) return reply(res, `FAILED ${error.message}`);
  if (error instanceof RateLimited) return reply(res, `FAILED Too many requests; try again in ${error.retryAfterSeconds} seconds`);
  log.error("AudioScrobbler request failed: {error}", { error });
  reply(res, "FAILED The server could not take this request; try again later");
}

