import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { NotFound } from "../errors.ts";
import { ApiTokenSchema, type ApiToken } from "./api-token.entity.ts";
import { hashSecretToken, newSecretToken } from "./secret-token.ts";
import type { User } from "./user.entity.ts";

const TOKEN_PREFIX = "pp_";
const TOUCH_INTERVAL_MS = 60_000;

/** Personal API tokens: shown once at creation, stored hashed, listed and revocable by their owner. */
export class ApiTokenService {
  readonly #orm: MikroORM;

  constructor(deps: { orm: MikroORM }) {
    this.#orm = deps.orm;
  }

  async create(userId: string, input: { name: string; expiresInDays?: number }): Promise<{ token: string; apiToken: ApiToken }> {
    const em = this.#orm.em.fork();
    const token = newSecretToken(TOKEN_PREFIX);
    const apiToken = em.create(ApiTokenSchema, {
      id: randomUUID(),
      user: userId,
      name: input.name,
      tokenHash: hashSecretToken(token),
      tokenPrefix: token.slice(0, TOKEN_PREFIX.length + 6),
      expiresAt: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null,
    });
    await em.flush();
    return { token, apiToken };
  }

  list(userId: string): Promise<ApiToken[]> {
    return this.#orm.em.fork().find(ApiTokenSchema, { user: userId }, { orderBy: { createdAt: "desc", id: "asc" } });
  }

  /** Someone else's token answers exactly like a missing one. */
  async revoke(userId: string, tokenId: string): Promise<void> {
    const deleted = await this.#orm.em.fork().nativeDelete(ApiTokenSchema, { id: tokenId, user: userId });
    if (!deleted) throw new NotFound("token");
  }

  /** Resolves a bearer token to its enabled user, or null when unknown, expired or the user is disabled. */
  async authenticate(token: string): Promise<User | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const em = this.#orm.em.fork();
    const apiToken = await em.findOne(ApiTokenSchema, { tokenHash: hashSecretToken(token) }, { populate: ["user"] });
    if (!apiToken || apiToken.user.disabledAt) return null;
    if (apiToken.expiresAt && apiToken.expiresAt <= new Date()) return null;
    if (!apiToken.lastUsedAt || Date.now() - apiToken.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
      apiToken.lastUsedAt = new Date();
      await em.flush();
    }
    return apiToken.user;
  }
}
