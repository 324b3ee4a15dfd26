import { importJwk, type Federation } from "@fedify/fedify";
import { Application, Endpoints, Group, Person, Service, Tombstone } from "@fedify/vocab";
import type { MikroORM } from "@mikro-orm/postgresql";
import { ActorSchema, type Actor } from "../../core/accounts/actor.entity.ts";
import { findPublishedActor } from "../../core/accounts/actors.service.ts";
import { ACTOR_PATH, INSTANCE_ACTOR } from "../../core/accounts/actor-urls.ts";
import { libraryOfActor } from "../../core/fediverse/library-collection.queries.ts";
import { objectUrls } from "../../core/fediverse/object-urls.ts";
import { toInstant } from "../mappers/temporal.ts";

const ACTOR_CLASSES = { Person, Service, Application, Group, Organization: Group } as const;

/**
 * Local actors (people, the instance, libraries, and playlists unless private: findPublishedActor) at
 * ACTOR_PATH, with the key pairs stored at creation; tombstones of deleted ones keep their keys. WebFinger resolves `acct:<identifier>@host`, and `acct:host@host` to the instance.
 */
export function registerActorDispatcher(federation: Federation<void>, deps: { orm: MikroORM; domain: string }): void {
  const findLocal = (identifier: string): Promise<Actor | null> =>
    deps.orm.em.fork().findOne(ActorSchema, { username: identifier, domain: deps.domain, isLocal: true });

  federation
    .setActorDispatcher(ACTOR_PATH, async (ctx, identifier) => {
      const found = await findPublishedActor(deps.orm.em.fork(), deps.domain, identifier);
      if (!found) return null;
      const { actor } = found;
      const ActorClass = ACTOR_CLASSES[actor.type];
      // What it represented is gone: 410 Gone (Fedify) with a Tombstone; its keys still sign the Delete.
      if (found.tombstone) {
        return new Tombstone({ id: ctx.getActorUri(identifier), formerType: ActorClass, deleted: toInstant(actor.deletedAt!) });
      }
      const keys = await ctx.getActorKeyPairs(identifier);
      // A library's actor links its Library collection (as:streams: the actor's supplementary collections),
      // and names its owner (attributedTo), whom a follower's preview shows.
      const library = actor.represents === "library" ? await libraryOfActor(deps.orm.em.fork(), actor.id) : null;
      return new ActorClass({
        id: ctx.getActorUri(identifier),
        preferredUsername: actor.username,
        name: actor.name ?? actor.username,
        summary: actor.summary ?? null,
        inbox: ctx.getInboxUri(identifier),
        outbox: ctx.getOutboxUri(identifier),
        followers: ctx.getFollowersUri(identifier),
        endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
        publicKey: keys[0]?.cryptographicKey ?? null,
        assertionMethods: keys.map((k) => k.multikey),
        manuallyApprovesFollowers: found.manuallyApprovesFollowers,
        published: toInstant(actor.createdAt),
        streams: library ? [new URL(objectUrls(new URL(ctx.canonicalOrigin)).library(library.id))] : [],
        attribution: library ? new URL(library.ownerFid) : null,
      });
    })
    .setKeyPairsDispatcher(async (_ctx, identifier) => {
      const actor = await findLocal(identifier);
      if (!actor?.rsaPrivateJwk || !actor.rsaPublicJwk || !actor.ed25519PrivateJwk || !actor.ed25519PublicJwk) return [];
      return [
        { publicKey: await importJwk(actor.rsaPublicJwk, "public"), privateKey: await importJwk(actor.rsaPrivateJwk, "private") },
        {
          publicKey: await importJwk(actor.ed25519PublicJwk, "public"),
          privateKey: await importJwk(actor.ed25519PrivateJwk, "private"),
        },
      ];
    })
    .mapHandle((ctx, handle) => {
      const name = handle.toLowerCase();
      return name === ctx.host ? INSTANCE_ACTOR : name;
    });
}

