import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { getLogger } from "../../config/logging.ts";
import { Unauthenticated } from "../errors.ts";
import type { Queryable } from "../jobs/enqueue.ts";
import type { RateLimiter } from "../rate-limit/rate-limiter.ts";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "./password.ts";
import { hashSecretToken, newSecretToken } from "./secret-token.ts";
import { SessionSchema, type Session } from "./session.entity.ts";
import { UserSchema, type User } from "./user.entity.ts";

export interface StartedSession {
  user: User;
  session: Session;
  /** The cookie value; only its hash is stored. */
  token: string;
}

const log = getLogger(["polyphony", "accounts", "sessions"]);

/** Refresh last_seen_at at most this often, so reads do not turn into writes on every request. */
const TOUCH_INTERVAL_MS = 5 * 60_000;

/** Removes sessions past their expiry (the hourly cleanup); returns how many. */
export async function deleteExpiredSessions(db: Queryable): Promise<number> {
  return (await db.query("DELETE FROM user_session WHERE expires_at <= now()")).rowCount ?? 0;
}

/** Password login, session cookies' lifecycle, and the rate limit on login attempts. */
export class SessionService {
  readonly #orm: MikroORM;
  readonly #ttlMs: number;
  readonly #perUser: RateLimiter;
  readonly #perAddress: RateLimiter;

  constructor(deps: { orm: MikroORM; sessionTtlDays: number; perUser: RateLimiter; perAddress: RateLimiter }) {
    this.#orm = deps.orm;
    this.#ttlMs = deps.sessionTtlDays * 86_400_000;
    this.#perUser = deps.perUser;
    this.#perAddress = deps.perAddress;
  }

  /**
   * Checks the password and opens a session. Attempts count per username and per client address,
   * so neither one address nor a spread of addresses can guess freely; each is counted before its
   * password is checked (parallel guesses cannot all slip under the limit), and a success is given
   * back. The same error for an unknown user and a wrong password, with the same hashing cost, so
   * names do not leak.
   */
  async login(input: { username: string; password: string; clientIp: string; userAgent?: string }): Promise<StartedSession> {
    const em = this.#orm.em.fork();
    const user = await this.passwordAttempt(input, async () => {
      const found = await em.findOne(UserSchema, { username: input.username });
      if (!(await verifyPassword(input.password, found?.passwordHash ?? DUMMY_PASSWORD_HASH)) || !found) {
        log.info("Failed login for {username} from {clientIp}", { username: input.username, clientIp: input.clientIp });
        throw new Unauthenticated("Wrong username or password");
      }
      return found;
    });
    if (user.disabledAt) throw new Unauthenticated("This account is disabled");
    const token = newSecretToken();
    const session = em.create(SessionSchema, {
      id: randomUUID(),
      user,
      tokenHash: hashSecretToken(token),
      csrfToken: newSecretToken(),
      userAgent: input.userAgent?.slice(0, 512) ?? null,
      expiresAt: new Date(Date.now() + this.#ttlMs),
    });
    await em.flush();
    log.info("{username} logged in", { username: user.username, sessionId: session.id });
    return { user, session, token };
  }

  /**
   * Runs a password check (`attempt` throws when the password is wrong) under the login rate limit:
   * the attempt counts per username and per address before it runs, and is given back when it passes.
   * Logins use it, and so does anything else that checks a typed password (a password change).
   */
  async passwordAttempt<T>(who: { username: string; clientIp: string }, attempt: () => Promise<T>): Promise<T> {
    const userKey = `login:user:${who.username}`;
    const addressKey = `login:ip:${who.clientIp}`;
    await this.#perAddress.consume(addressKey);
    await this.#perUser.consume(userKey);
    const result = await attempt();
    await this.#perUser.reset(userKey);
    await this.#perAddress.refund(addressKey);
    return result;
  }

  /** Resolves a cookie token to its live session and enabled user, or null. */
  async authenticate(token: string): Promise<{ user: User; session: Session } | null> {
    const em = this.#orm.em.fork();
    const session = await em.findOne(
      SessionSchema,
      { tokenHash: hashSecretToken(token), expiresAt: { $gt: new Date() } },
      { populate: ["user"] },
    );
    if (!session || session.user.disabledAt) return null;
    if (Date.now() - session.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
      session.lastSeenAt = new Date();
      await em.flush();
    }
    return { user: session.user, session };
  }

  async logout(sessionId: string): Promise<void> {
    await this.#orm.em.fork().nativeDelete(SessionSchema, { id: sessionId });
  }

  async deleteExpired(): Promise<number> {
    return this.#orm.em.fork().nativeDelete(SessionSchema, { expiresAt: { $lte: new Date() } });
  }
}
