import { defineEntity, p, type InferEntity } from "@mikro-orm/core";
import { ActorSchema } from "../accounts/actor.entity.ts";
import { UserSchema } from "../accounts/user.entity.ts";

export const PRIVACY_LEVELS = ["private", "instance", "public"] as const;
export type Privacy = (typeof PRIVACY_LEVELS)[number];

/** A user's collection of uploads, with its own ActivityPub actor (followed by other servers later). */
export const LibrarySchema = defineEntity({
  name: "Library",
  tableName: "library",
  properties: {
    id: p.uuid().primary(),
    owner: () => p.manyToOne(UserSchema).deleteRule("cascade").index(),
    actor: () => p.oneToOne(ActorSchema).owner(),
    name: p.text(),
    description: p.text().default(""),
    privacy: p.enum([...PRIVACY_LEVELS]).default("private"),
    /** When true, follow requests wait for the owner's approval. */
    approveFollows: p.boolean().default(true),
    /** A folder on the server imported in place and rescanned periodically. */
    musicFolder: p.text().nullable(),
    lastScanAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw("now()"),
    updatedAt: p.datetime().defaultRaw("now()").onUpdate(() => new Date()),
  },
});

export type Library = InferEntity<typeof LibrarySchema>;
