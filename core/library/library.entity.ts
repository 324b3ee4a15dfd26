import { defineEntity, p, type InferEntity } from "@mikro-orm/core";
import { ActorSchema } from "../accounts/actor.entity.ts";
import { UserSchema } from "../accounts/user.entity.ts";

export const PRIVACY_LEVELS = ["private", "instance", "public"] as const;
export type Privacy = (typeof PRIVACY_LEVELS)[number];

/**
 * A collection of uploads. Local: a user's, with its own ActivityPub actor. Remote (migration 0016): no
 * owner, its ActivityPub id (fid), and the remote actor that speaks for it; seen only through follows.
 */
export const LibrarySchema = defineEntity({
  name: "Library",
  tableName: "library",
  properties: {
    id: p.uuid().primary(),
    /** The local user it belongs to; null for a remote library. */
    owner: () => p.manyToOne(UserSchema).nullable().deleteRule("cascade").index(),
    /** Local: the library's own actor. Remote: the actor that publishes it (Funkwhale's attributedTo). */
    actor: () => p.manyToOne(ActorSchema),
    /** A remote library's ActivityPub id. */
    fid: p.text().nullable().unique(),
    name: p.text(),
    description: p.text().default(""),
    privacy: p.enum([...PRIVACY_LEVELS]).default("private"),
    /** When true, follow requests wait for the owner's approval. */
    approveFollows: p.boolean().default(true),
    /** A folder on the server imported in place and rescanned periodically. */
    musicFolder: p.text().nullable(),
    /** When its content was last read: a music folder's scan, or a remote library's collection. */
    lastScanAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw("now()"),
    updatedAt: p.datetime().defaultRaw("now()").onUpdate(() => new Date()),
  },
  uniques: [{ name: "library_local_actor_unique", properties: ["actor"], where: "owner_id IS NOT NULL" }],
  checks: [
    {
      name: "library_local_or_remote_check",
      expression: `(owner_id IS NOT NULL AND fid IS NULL)
        OR (owner_id IS NULL AND fid IS NOT NULL AND music_folder IS NULL AND privacy = 'private')`,
    },
  ],
});

export type Library = InferEntity<typeof LibrarySchema>;
