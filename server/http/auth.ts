import { timingSafeEqual } from "node:crypto";
import type { Request, RequestHandler, Response } from "express";
import { Forbidden, Unauthenticated } from "../../core/errors.ts";
import type { ApiTokenService } from "../../core/accounts/api-tokens.service.ts";
import type { SessionService } from "../../core/accounts/sessions.service.ts";
import type { Session } from "../../core/accounts/session.entity.ts";
import type { User } from "../../core/accounts/user.entity.ts";

/**
 * The session cookie's name. Browsers keep cookies per host, whatever the port, so two instances on one
 * machine (localhost:4000 and localhost:4001) would replace each other's cookie and sign each other out:
 * a PUBLIC_URL that names a port gives its cookie a name of its own.
 */
export function sessionCookieName(publicUrl: URL): string {
  return publicUrl.port ? `polyphony_session_${publicUrl.port}` : "polyphony_session";
}
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export interface Auth {
  user: User;
  /** Set when the request came with the session cookie rather than a bearer token. */
  session?: Session;
}

declare module "express-serve-static-core" {
  interface Locals {
    auth?: Auth;
  }
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Resolves the caller from `Authorization: Bearer <token>` or the session cookie. A bad or revoked
 * bearer token is a 401 at once; a stale cookie just means "anonymous". Other schemes (`Basic` from
 * a password-protected proxy in front of us) are not ours: ignored, never a 401 of a public page.
 * Cookie-authenticated writes must carry the session's CSRF token in X-CSRF-Token (bearer tokens
 * cannot be sent by a foreign page).
 */
export function authenticate(deps: { sessions: SessionService; tokens: ApiTokenService; cookieName: string }): RequestHandler {
  return async (req, res, next) => {
    const [scheme, ...credentials] = (req.get("authorization") ?? "").trim().split(/\s+/);
    if (scheme?.toLowerCase() === "bearer") {
      const user = credentials.length === 1 ? await deps.tokens.authenticate(credentials[0]!) : null;
      if (!user) throw new Unauthenticated("The API token is invalid, expired or revoked");
      res.locals.auth = { user };
      return next();
    }
    const cookie = readCookie(req, deps.cookieName);
    const found = cookie ? await deps.sessions.authenticate(cookie) : null;
    if (found) {
      if (!SAFE_METHODS.has(req.method) && !sameSecret(req.get("x-csrf-token") ?? "", found.session.csrfToken)) {
        throw new Forbidden("Missing or wrong X-CSRF-Token header", "csrf_failed");
      }
      res.locals.auth = found;
    }
    next();
  };
}

export function currentAuth(res: Response): Auth {
  if (!res.locals.auth) throw new Unauthenticated("Log in or send an API token");
  return res.locals.auth;
}

export const requireUser: RequestHandler = (_req, res, next) => {
  currentAuth(res);
  next();
};

export const requireAdmin: RequestHandler = (_req, res, next) => {
  if (currentAuth(res).user.role !== "admin") throw new Forbidden("Only administrators can do this");
  next();
};
