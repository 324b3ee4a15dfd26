import { Router, type Response } from "express";
import { z } from "zod";
import { emailSchema, passwordSchema, usernameSchema } from "../../core/accounts/usernames.ts";
import type { StartedSession } from "../../core/accounts/sessions.service.ts";
import { currentAuth, sessionCookieName } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import type { ServerDeps } from "../deps.ts";
import type { Operation } from "../http/openapi.ts";
import { toUserDto } from "./dto.ts";

const signupBody = z.strictObject({
  username: usernameSchema,
  email: emailSchema.optional(),
  password: passwordSchema,
  inviteCode: z.string().min(1).max(200).optional(),
});

const loginBody = z.strictObject({
  username: z.string().trim().toLowerCase().min(1).max(100),
  password: z.string().min(1).max(1024),
});

export const authOperations: Operation[] = [
  { method: "post", path: "/auth/signup", tag: "Accounts", summary: "Create an account and log in", body: signupBody, status: 201 },
  { method: "post", path: "/auth/login", tag: "Accounts", summary: "Log in with a password (session cookie)", body: loginBody },
  { method: "post", path: "/auth/logout", tag: "Accounts", summary: "End the session", auth: true, status: 204 },
  {
    method: "get",
    path: "/auth/session",
    tag: "Accounts",
    summary: "Who is signed in: `{ user, csrfToken? }`, or `{ user: null }` (200, not 401, so a visitor's page logs no error)",
  },
];

export function authRoutes(deps: ServerDeps): Router {
  const router = Router();
  const secure = deps.config.http.publicUrl.protocol === "https:";
  const cookieName = sessionCookieName(deps.config.http.publicUrl);

  const startSession = (res: Response, started: StartedSession) => {
    res.cookie(cookieName, started.token, {
      httpOnly: true,
      sameSite: "lax",
      secure,
      path: "/",
      expires: started.session.expiresAt,
    });
    return { user: toUserDto(started.user), csrfToken: started.session.csrfToken };
  };

  router.post(
    "/signup",
    handle(async (req, res) => {
      await deps.signupLimiter.consume(`signup:ip:${req.ip}`);
      const input = parse(signupBody, req.body);
      await deps.accounts.signup(input);
      const started = await deps.sessions.login({
        username: input.username,
        password: input.password,
        clientIp: req.ip ?? "unknown",
        userAgent: req.get("user-agent"),
      });
      return startSession(res, started);
    }, 201),
  );

  router.post(
    "/login",
    handle(async (req, res) => {
      const input = parse(loginBody, req.body);
      const started = await deps.sessions.login({ ...input, clientIp: req.ip ?? "unknown", userAgent: req.get("user-agent") });
      return startSession(res, started);
    }),
  );

  router.get(
    "/session",
    handle((_req, res) => {
      const auth = res.locals.auth;
      if (!auth) return { user: null };
      return { user: toUserDto(auth.user), ...(auth.session ? { csrfToken: auth.session.csrfToken } : {}) };
    }),
  );

  router.post(
    "/logout",
    handle(async (_req, res) => {
      const { session } = currentAuth(res);
      if (session) await deps.sessions.logout(session.id);
      res.clearCookie(cookieName, { path: "/", httpOnly: true, sameSite: "lax", secure });
      return undefined;
    }),
  );

  return router;
}
