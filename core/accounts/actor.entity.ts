import { defineEntity, p, type InferEntity } from "@mikro-orm/core";

/** What a local actor speaks for; the user, library or playlist row names it by its actor_id (migration 0016). */
export const ACTOR_ROLES = ["user", "library", "playlist", "instance"] as const;
export type ActorRole = (typeof ACTOR_ROLES)[number];

/**
 * An ActivityPub actor, local or remote. Local actors keep their key pairs (JWK) here, and say what they
 * represent; one whose user, library or playlist was deleted stays as a tombstone (deletedAt), keys included.
 */
export const ActorSchema = defineEntity({
  name: "Actor",
  tableName: "actor",
  properties: {
    id: p.uuid().primary(),
    /** The actor's ActivityPub id (URL). */
    fid: p.text().unique(),
    type: p.enum(["Person", "Service", "Application", "Group", "Organization"]),
    /** preferredUsername; for local actors, the identifier in their URL. */
    username: p.text(),
    domain: p.text(),
    isLocal: p.boolean(),
    /** Local actors only (a CHECK): what this actor speaks for. */
    represents: p.enum([...ACTOR_ROLES]).nullable(),
    name: p.text().nullable(),
    summary: p.text().nullable(),
    inboxUrl: p.text().nullable(),
    sharedInboxUrl: p.text().nullable(),
    outboxUrl: p.text().nullable(),
    followersUrl: p.text().nullable(),
    rsaPublicJwk: p.json<JsonWebKey>().nullable(),
    rsaPrivateJwk: p.json<JsonWebKey>().nullable().hidden(),
    ed25519PublicJwk: p.json<JsonWebKey>().nullable().fieldName("ed25519_public_jwk"),
    ed25519PrivateJwk: p.json<JsonWebKey>().nullable().hidden().fieldName("ed25519_private_jwk"),
    /** What it spoke for was deleted: its document is a Tombstone (410), its keys still sign the Delete. */
    deletedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw("now()"),
    updatedAt: p.datetime().defaultRaw("now()").onUpdate(() => new Date()),
  },
  uniques: [
    { properties: ["domain", "username"] },
    { name: "actor_instance_unique", properties: ["represents"], where: "represents = 'instance'" },
  ],
  checks: [{ name: "actor_local_represents_check", expression: "is_local = (represents IS NOT NULL)" }],
});

export type Actor = InferEntity<typeof ActorSchema>;
export type ActorType = Actor["type"];
