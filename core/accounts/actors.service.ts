import { randomUUID } from "node:crypto";
import type { EntityManager } from "@mikro-orm/core";
import { ActorSchema, type Actor, type ActorRole, type ActorType } from "./actor.entity.ts";
import { generateActorKeys } from "./key-pairs.ts";
import { INSTANCE_ACTOR, localActorUrls } from "./actor-urls.ts";

/** A local actor as the fediverse sees it: alive (and whether follows wait for approval), or a tombstone. */
export type PublishedActor = { actor: Actor; tombstone: false; manuallyApprovesFollowers: boolean } | { actor: Actor; tombstone: true };

/**
 * The local actor the fediverse may see (it is anonymous to us): people, the instance, every library
 * (a private one is followed through its unguessable URL, which its owner shares, and approves the
 * follow), and a playlist unless it is private: a private playlist's actor looks missing (null). What
 * it represents is read through the row naming it (actor.represents says which), and an actor whose
 * row was deleted is a tombstone.
 */
export async function findPublishedActor(em: EntityManager, domain: string, username: string): Promise<PublishedActor | null> {
  const actor = await em.findOne(ActorSchema, { username, domain, isLocal: true });
  if (!actor) return null;
  if (actor.deletedAt) return { actor, tombstone: true };
  const approves = await approvesFollows(em, actor);
  return approves === null ? null : { actor, tombstone: false, manuallyApprovesFollowers: approves };
}

/**
 * Whether WebFinger may answer for this handle: every local actor (or tombstone) but a private library's,
 * whose handle is listed nowhere (its actor document stays readable at its unguessable URL).
 */
export async function listedByWebFinger(em: EntityManager, domain: string, username: string): Promise<boolean> {
  const rows = await em.getConnection().execute<{ privacy: string }[]>(
    `SELECT l.privacy FROM actor a JOIN library l ON l.actor_id = a.id AND l.owner_id IS NOT NULL
     WHERE a.username = ? AND a.domain = ? AND a.is_local AND a.represents = 'library'`,
    [username, domain],
  );
  return rows[0]?.privacy !== "private";
}

/** Whether follows of this live local actor wait for approval; null when what it represents is hidden or gone. */
async function approvesFollows(em: EntityManager, actor: Actor): Promise<boolean | null> {
  const connection = em.getConnection();
  switch (actor.represents) {
    case "user":
      return true;
    case "instance":
      return false;
    case "library": {
      // A public library accepts every follower at once (FollowInbox): Mastodon must not show it as locked.
      const rows = await connection.execute<{ approve_follows: boolean }[]>(
        "SELECT approve_follows AND privacy <> 'public' AS approve_follows FROM library WHERE actor_id = ? AND owner_id IS NOT NULL",
        [actor.id],
      );
      return rows[0]?.approve_follows ?? null;
    }
    case "playlist": {
      const rows = await connection.execute<{ privacy: string }[]>("SELECT privacy FROM playlist WHERE actor_id = ?", [actor.id]);
      return rows[0] && rows[0].privacy !== "private" ? false : null;
    }
    default:
      return null;
  }
}

/** Creates local actors, each with fresh RSA and Ed25519 key pairs, made once at creation. */
export class ActorService {
  readonly #origin: URL;

  constructor(deps: { publicUrl: URL }) {
    this.#origin = deps.publicUrl;
  }

  get domain(): string {
    return this.#origin.host;
  }

  async createLocal(
    em: EntityManager,
    input: { type: ActorType; username: string; name?: string | null; represents: ActorRole },
  ): Promise<Actor> {
    const keys = await generateActorKeys();
    return em.create(ActorSchema, {
      id: randomUUID(),
      type: input.type,
      username: input.username,
      domain: this.domain,
      isLocal: true,
      represents: input.represents,
      name: input.name ?? null,
      ...localActorUrls(this.#origin, input.username),
      ...keys,
    });
  }

  findLocal(em: EntityManager, username: string): Promise<Actor | null> {
    return em.findOne(ActorSchema, { username, domain: this.domain, isLocal: true });
  }

  /** A live published actor (not a tombstone): one whose inbox takes activities. */
  async findPublished(em: EntityManager, username: string): Promise<Actor | null> {
    const found = await findPublishedActor(em, this.domain, username);
    return found && !found.tombstone ? found.actor : null;
  }

  /** The instance Service actor, created on first use (a unique index settles races between processes). */
  async ensureInstanceActor(em: EntityManager): Promise<Actor> {
    const find = (manager: EntityManager) => manager.findOne(ActorSchema, { represents: "instance" });
    const existing = await find(em);
    if (existing) return existing;
    const fork = em.fork();
    try {
      await this.createLocal(fork, { type: "Service", username: INSTANCE_ACTOR, name: this.domain, represents: "instance" });
      await fork.flush();
    } catch (error) {
      if (!(await find(em.fork()))) throw error;
    }
    return (await find(em.fork()))!;
  }
}
