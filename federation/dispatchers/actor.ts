import { importJwk, type Federation } from "@fedify/fedify";
import { Application, Endpoints, Group, Link, Person, Service, Tombstone } from "@fedify/vocab";
import type { MikroORM } from "@mikro-orm/postgresql";
import { ActorSchema, type Actor } from "../../core/accounts/actor.entity.ts";
import { findPublishedActor, listedByWebFinger } from "../../core/accounts/actors.service.ts";
import { ACTOR_PATH, INSTANCE_ACTOR } from "../../core/accounts/actor-urls.ts";
import { libraryOfActor } from "../../core/fediverse/library-collection.queries.ts";
import { objectUrls } from "../../core/fediverse/object-urls.ts";
import { playlistOfActor } from "../../core/fediverse/playlist-collection.queries.ts";
import { toInstant } from "../mappers/temporal.ts";

const ACTOR_CLASSES = { Person, Service, Application, Group, Organization: Group } as const;

/**
 * Local actors (people, the instance, libraries, and playlists unless private: findPublishedActor) at
 * ACTOR_PATH, with the key pairs stored at creation; tombstones of deleted ones keep their keys.
 * WebFinger resolves `acct:<identifier>@host`, and `acct:host@host` to the instance; not a private
 * library's handle (listedByWebFinger): its actor is found only through its URL, which its owner shares.
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
      // its owner (attributedTo) and its page in the web UI.
      const library = actor.represents === "library" ? await libraryOfActor(deps.orm.em.fork(), actor.id) : null;
      // A playlist's actor likewise links its Playlist collection.
      const playlist = actor.represents === "playlist" ? await playlistOfActor(deps.orm.em.fork(), actor.id) : null;
      const urls = objectUrls(new URL(ctx.canonicalOrigin));
      const collection = library
        ? { stream: urls.library(library.id), ownerFid: library.ownerFid, page: urls.libraryWebPage(library.id) }
        : playlist
          ? { stream: urls.playlist(playlist.id), ownerFid: playlist.ownerFid, page: urls.playlistWebPage(playlist.id) }
          : null;
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
        streams: collection ? [new URL(collection.stream)] : [],
        ...(collection
          ? { attribution: new URL(collection.ownerFid), url: new Link({ href: new URL(collection.page), mediaType: "text/html" }) }
          : {}),
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
    .mapHandle(async (ctx, handle) => {
      const name = handle.toLowerCase();
      if (name === ctx.host) return INSTANCE_ACTOR;
      return (await listedByWebFinger(deps.orm.em.fork(), deps.domain, name)) ? name : null;
    });
}

