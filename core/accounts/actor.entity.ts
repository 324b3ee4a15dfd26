import { defineEntity, p, type InferEntity } from "@mikro-orm/core";

/** An ActivityPub actor, local or remote. Local actors keep their key pairs (JWK) here. */
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
    createdAt: p.datetime().defaultRaw("now()"),
    updatedAt: p.datetime().defaultRaw("now()").onUpdate(() => new Date()),
  },
  uniques: [{ properties: ["domain", "username"] }],
});

export type Actor = InferEntity<typeof ActorSchema>;
export type ActorType = Actor["type"];
