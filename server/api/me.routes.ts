import { Router } from "express";
import { z } from "zod";
import { passwordSchema } from "../../core/accounts/usernames.ts";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import type { ServerDeps } from "../deps.ts";
import type { Operation } from "../http/openapi.ts";
import { toApiTokenDto, toUserDto } from "./dto.ts";

const passwordBody = z.strictObject({
  currentPassword: z.string().min(1).max(1024),
  newPassword: passwordSchema,
  /** API tokens end with the old password unless kept. */
  keepApiTokens: z.boolean().default(false),
});
const tokenBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});

export const meOperations: Operation[] = [
  { method: "get", path: "/me", tag: "Accounts", summary: "The current user", auth: true },
  { method: "post", path: "/me/password", tag: "Accounts", summary: "Change the password (ends other sessions and, unless kept, API tokens)", auth: true, body: passwordBody, status: 204 },
  { method: "get", path: "/tokens", tag: "Accounts", summary: "List API tokens", auth: true },
  { method: "post", path: "/tokens", tag: "Accounts", summary: "Create an API token (shown once)", auth: true, body: tokenBody, status: 201 },
  { method: "delete", path: "/tokens/:id", tag: "Accounts", summary: "Revoke an API token", auth: true, status: 204 },
];

export function meRoutes(deps: ServerDeps): Router {
  const router = Router();
  router.get(
    "/me",
    requireUser,
    handle((_req, res) => {
      const { user, session } = currentAuth(res);
      return { user: toUserDto(user), ...(session ? { csrfToken: session.csrfToken } : {}) };
    }),
  );

  router.post(
    "/me/password",
    requireUser,
    handle(async (req, res) => {
      const { user, session } = currentAuth(res);
      const input = parse(passwordBody, req.body);
      // The current password is checked like a login's: a stolen session cannot guess it freely.
      await deps.sessions.passwordAttempt({ username: user.username, clientIp: req.ip ?? "unknown" }, () =>
        deps.accounts.changePassword(user.id, input.currentPassword, input.newPassword, {
          sessionId: session?.id,
          apiTokens: input.keepApiTokens,
        }));
      return undefined;
    }),
  );

  router.get(
    "/tokens",
    requireUser,
    handle(async (_req, res) => ({ items: (await deps.tokens.list(currentAuth(res).user.id)).map(toApiTokenDto) })),
  );

  router.post(
    "/tokens",
    requireUser,
    handle(async (req, res) => {
      const { token, apiToken } = await deps.tokens.create(currentAuth(res).user.id, parse(tokenBody, req.body));
      return { ...toApiTokenDto(apiToken), token };
    }, 201),
  );

  router.delete(
    "/tokens/:id",
    requireUser,
    handle(async (req, res) => {
      await deps.tokens.revoke(currentAuth(res).user.id, pathId(req.params.id, "token"));
      return undefined;
    }),
  );

  return router;
}
