import { randomUUID } from "node:crypto";
import type { EntityManager } from "@mikro-orm/core";
import { ActorSchema, type Actor, type ActorType } from "./actor.entity.ts";
import { generateActorKeys } from "./key-pairs.ts";
import { INSTANCE_ACTOR, localActorUrls } from "./actor-urls.ts";

/**
 * The local actor the fediverse may see (it is anonymous to us): people, the instance, every library
 * (a private one is followed through its unguessable URL, which its owner shares, and approves the
 * follow), and a playlist unless it is private. A private playlist's actor looks missing (null).
 */
export async function findPublishedActor(em: EntityManager, domain: string, username: string): Promise<Actor | null> {
  const actor = await em.findOne(ActorSchema, { username, domain, isLocal: true });
  if (!actor) return null;
  const [{ hidden }] = await em.getConnection().execute<[{ hidden: boolean }]>(
    "SELECT EXISTS (SELECT 1 FROM playlist WHERE actor_id = ? AND privacy = 'private') AS hidden",
    [actor.id],
  );
  return hidden ? null : actor;
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

  async createLocal(em: EntityManager, input: { type: ActorType; username: string; name?: string | null }): Promise<Actor> {
    const keys = await generateActorKeys();
    return em.create(ActorSchema, {
      id: randomUUID(),
      type: input.type,
      username: input.username,
      domain: this.domain,
      isLocal: true,
      name: input.name ?? null,
      ...localActorUrls(this.#origin, input.username),
      ...keys,
    });
  }

  findLocal(em: EntityManager, username: string): Promise<Actor | null> {
    return em.findOne(ActorSchema, { username, domain: this.domain, isLocal: true });
  }

  findPublished(em: EntityManager, username: string): Promise<Actor | null> {
    return findPublishedActor(em, this.domain, username);
  }

  /** The instance Service actor, created on first use (a unique constraint settles races between processes). */
  async ensureInstanceActor(em: EntityManager): Promise<Actor> {
    const existing = await this.findLocal(em, INSTANCE_ACTOR);
    if (existing) return existing;
    const fork = em.fork();
    try {
      await this.createLocal(fork, { type: "Service", username: INSTANCE_ACTOR, name: this.domain });
      await fork.flush();
    } catch (error) {
      if (!(await this.findLocal(em.fork(), INSTANCE_ACTOR))) throw error;
    }
    return (await this.findLocal(em.fork(), INSTANCE_ACTOR))!;
  }
}
