import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import type pg from "pg";
import { LockMode, UniqueConstraintViolationException, type EntityManager } from "@mikro-orm/core";
import type { Registration } from "../../config/env.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { Conflict, Forbidden, Invalid, NotFound } from "../errors.ts";
import type { ActorService } from "./actors.service.ts";
import { ApiTokenSchema } from "./api-token.entity.ts";
import { InviteSchema } from "./invite.entity.ts";
import { hashPassword, verifyPassword } from "./password.ts";
import { hashSecretToken, newSecretToken } from "./secret-token.ts";
import { SessionSchema } from "./session.entity.ts";
import { UserSchema, type Role, type User } from "./user.entity.ts";

export interface SignupInput {
  username: string;
  email?: string | null;
  password: string;
  inviteCode?: string;
}

const INVITE_TTL_DAYS = 14;

/** Sign-up, passwords, invitations and the admin's view of accounts. */
export class AccountService {
  readonly #db: TransactionSource;
  readonly #orm: MikroORM;
  readonly #actors: ActorService;
  readonly #registration: () => Promise<Registration>;

  /** `registration`: a fixed mode, or a reader called at each sign-up (the stored instance setting). */
  constructor(deps: { pool: pg.Pool; orm: MikroORM; actors: ActorService; registration: Registration | (() => Promise<Registration>) }) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#orm = deps.orm;
    this.#actors = deps.actors;
    const { registration } = deps;
    this.#registration = typeof registration === "function" ? registration : async () => registration;
  }

  /**
   * Creates the user and their Person actor (with key pairs) in one transaction. The first account
   * becomes admin whatever the registration mode; later ones follow it.
   */
  signup(input: SignupInput): Promise<User> {
    let mode: Registration | undefined;
    return this.#create(input, async (_em, isFirst) => {
      if (isFirst) return "admin";
      mode = await this.#registration();
      this.#checkRegistration(mode, input.inviteCode);
      return "user";
    }, async (em, user) => {
      if (user.role !== "admin" && mode === "invite") await this.#useInvite(em, input.inviteCode!, user);
    });
  }

  /** For operators (the CLI): no registration rules, the role they ask for. */
  createUser(input: Omit<SignupInput, "inviteCode">, role: Role): Promise<User> {
    return this.#create(input, async () => role);
  }

  async #create(
    input: Omit<SignupInput, "inviteCode">,
    decideRole: (em: EntityManager, isFirst: boolean) => Promise<Role>,
    afterCreate?: (em: EntityManager, user: User) => Promise<void>,
  ): Promise<User> {
    const passwordHash = await hashPassword(input.password);
    try {
      return await withTransaction(this.#db, async ({ em }) => {
        // Serialise sign-ups so "the first account is admin" holds under concurrency.
        await em.execute("SELECT pg_advisory_xact_lock(7201845114)");
        const role = await decideRole(em, (await em.count(UserSchema, {})) === 0);
        await this.#ensureFree(em, input.username, input.email ?? null);
        const actor = await this.#actors.createLocal(em, { type: "Person", username: input.username, represents: "user" });
        const user = em.create(UserSchema, {
          id: randomUUID(),
          username: input.username,
          email: input.email ?? null,
          passwordHash,
          role,
          actor,
        });
        await afterCreate?.(em, user);
        return user;
      });
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw new Conflict("That username or email is already taken", "account_exists");
      }
      throw error;
    }
  }

  #checkRegistration(mode: Registration, inviteCode: string | undefined): void {
    if (mode === "closed") {
      throw new Forbidden("Registration is closed on this server", "registration_closed");
    }
    if (mode === "invite" && !inviteCode) {
      throw new Forbidden("Registration needs an invitation code", "invite_required");
    }
  }

  async #ensureFree(em: EntityManager, username: string, email: string | null): Promise<void> {
    if (await em.count(UserSchema, { username })) {
      throw new Conflict("That username is already taken", "username_taken");
    }
    if (await this.#actors.findLocal(em, username)) {
      throw new Conflict("That username is already taken", "username_taken");
    }
    if (email && (await em.count(UserSchema, { email }))) {
      throw new Conflict("That email is already used by another account", "email_taken");
    }
  }

  async #useInvite(em: EntityManager, code: string, user: User): Promise<void> {
    const invite = await em.findOne(
      InviteSchema,
      { codeHash: hashSecretToken(code), usedAt: null, expiresAt: { $gt: new Date() } },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    if (!invite) throw new Forbidden("This invitation code is not valid or was already used", "invite_invalid");
    invite.usedAt = new Date();
    invite.usedBy = user;
  }

  async createInvite(adminId: string): Promise<{ code: string; expiresAt: Date }> {
    const em = this.#orm.em.fork();
    const code = newSecretToken("inv_").slice(0, 28);
    const expiresAt = new Date(Date.now() + INVITE_TTL_DAYS * 86_400_000);
    em.create(InviteSchema, {
      id: randomUUID(),
      codeHash: hashSecretToken(code),
      createdBy: em.getReference(UserSchema, adminId),
      expiresAt,
    });
    await em.flush();
    return { code, expiresAt };
  }

  /** Changes the password and ends every other session of the user. */
  /**
   * A new password ends every other way in that the old one opened: the user's other sessions and
   * their API tokens (a token made by whoever knew the old password), unless they ask to keep the
   * tokens. All in one transaction.
   */
  async changePassword(
    userId: string,
    current: string,
    next: string,
    keep: { sessionId?: string; apiTokens?: boolean } = {},
  ): Promise<void> {
    const user = await this.#orm.em.fork().findOneOrFail(UserSchema, userId);
    if (!(await verifyPassword(current, user.passwordHash))) {
      throw new Invalid("The current password is wrong", undefined, "wrong_password");
    }
    const passwordHash = await hashPassword(next);
    await withTransaction(this.#db, async ({ em }) => {
      await em.nativeUpdate(UserSchema, { id: userId }, { passwordHash });
      await em.nativeDelete(SessionSchema, { user: userId, ...(keep.sessionId ? { id: { $ne: keep.sessionId } } : {}) });
      if (!keep.apiTokens) await em.nativeDelete(ApiTokenSchema, { user: userId });
    });
  }

  async list(options: { limit: number; offset: number }): Promise<{ items: User[]; total: number }> {
    const [items, total] = await this.#orm.em
      .fork()
      .findAndCount(UserSchema, {}, { orderBy: { createdAt: "asc", id: "asc" }, ...options });
    return { items, total };
  }

  /** The user with this (lower-case) username, or null. */
  findByUsername(username: string): Promise<User | null> {
    return this.#orm.em.fork().findOne(UserSchema, { username });
  }

  /** Disabling ends the user's sessions; their API tokens stop working while disabled. Admins cannot disable themselves. */
  async update(adminId: string, userId: string, changes: { disabled?: boolean; role?: User["role"] }): Promise<User> {
    if (userId === adminId && (changes.disabled || changes.role === "user")) {
      throw new Forbidden("You cannot disable or demote your own account", "cannot_modify_self");
    }
    return withTransaction(this.#db, async ({ em }) => {
      // Both rows locked (in id order, so two such changes never deadlock), and the admin read again: two
      // admins demoting or disabling each other at once would otherwise leave the instance without one.
      const locked = await em.find(UserSchema, { id: { $in: [adminId, userId] } }, { orderBy: { id: "asc" }, lockMode: LockMode.PESSIMISTIC_WRITE });
      const admin = locked.find((u) => u.id === adminId);
      if (!admin || admin.role !== "admin" || admin.disabledAt) throw new Forbidden("Only administrators can do this");
      const user = locked.find((u) => u.id === userId);
      if (!user) throw new NotFound("user");
      if (changes.disabled !== undefined) user.disabledAt = changes.disabled ? (user.disabledAt ?? new Date()) : null;
      if (changes.role) user.role = changes.role;
      await em.flush();
      if (changes.disabled) await em.nativeDelete(SessionSchema, { user: userId });
      return user;
    });
  }
}
