import { importJwk, type Federation } from "@fedify/fedify";
import { Application, Endpoints, Group, Image, Link, Person, Service, Tombstone } from "@fedify/vocab";
import type { MikroORM } from "@mikro-orm/postgresql";
import type pg from "pg";
import { ActorSchema, type Actor } from "../../core/accounts/actor.entity.ts";
import { findPublishedActor, listedByWebFinger } from "../../core/accounts/actors.service.ts";
import { publicCollectionsOfActor } from "../../core/accounts/profiles.ts";
import { ACTOR_PATH, INSTANCE_ACTOR } from "../../core/accounts/actor-urls.ts";
import { collectionProfileOfActor, type CollectionProfile, profileSummary } from "../../core/fediverse/actor-profiles.ts";
import { objectUrls, type ObjectUrls } from "../../core/fediverse/object-urls.ts";
import { toInstant } from "../mappers/temporal.ts";

const ACTOR_CLASSES = { Person, Service, Application, Group, Organization: Group } as const;

/**
 * Local actors (people, the instance, libraries, and playlists unless private: findPublishedActor) at
 * ACTOR_PATH, with the key pairs stored at creation; tombstones of deleted ones keep their keys.
 * WebFinger resolves `acct:<identifier>@host`, and `acct:host@host` to the instance; not a private
 * library's handle (listedByWebFinger): its actor is found only through its URL, which its owner shares.
 */
export function registerActorDispatcher(federation: Federation<void>, deps: { orm: MikroORM; pool: pg.Pool; domain: string }): void {
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
      const profile = actor.represents === "library" || actor.represents === "playlist" ? await collectionProfileOfActor(deps.orm.em.fork(), actor.id) : null;
      const urls = objectUrls(new URL(ctx.canonicalOrigin));
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
        ...(profile ? collectionProfileFields(profile, urls, deps.domain) : {}),
        ...(actor.represents === "user" ? { streams: await personStreams(deps.pool, actor.id, urls) } : {}),
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


/**
 * What a library's or playlist's actor adds (Mastodon shows it as a bot account: Application is one to
 * it, as Service is): its owner (attributedTo), a bio, an avatar from its cover art, its page here, and
 * `discoverable` when public. A library's actor links its Library collection (as:streams: the actor's
 * supplementary collections), which is what Funkwhale and Polyphony follow.
 */
function collectionProfileFields(profile: CollectionProfile, urls: ObjectUrls, domain: string) {
  const page = profile.kind === "library" ? urls.libraryWebPage(profile.id) : urls.playlistWebPage(profile.id);
  return {
    attribution: new URL(profile.ownerFid),
    summary: profileSummary(profile, domain),
    url: new Link({ href: new URL(page), mediaType: "text/html" }),
    discoverable: profile.privacy === "public",
    ...(profile.coverHash ? { icon: new Image({ url: new URL(urls.cover(profile.coverHash)), mediaType: "image/jpeg" }) } : {}),
    // Its Library or Playlist collection (as:streams: the actor's supplementary collections).
    streams: [new URL(profile.kind === "library" ? urls.library(profile.id) : urls.playlist(profile.id))],
  };
}

/**
 * A person's public libraries and playlists, as their Library and Playlist collections (as:streams, as a
 * library's actor links its Library): what another Polyphony server lists on their profile there.
 */
async function personStreams(pool: pg.Pool, actorId: string, urls: ObjectUrls): Promise<URL[]> {
  const { libraries, playlists } = await publicCollectionsOfActor(pool, actorId);
  return [...libraries.map((id) => new URL(urls.library(id))), ...playlists.map((id) => new URL(urls.playlist(id)))];
}
