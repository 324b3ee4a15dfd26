import { defineEntity, p, type InferEntity } from "@mikro-orm/core";
import { ActorSchema } from "./actor.entity.ts";

export const UserSchema = defineEntity({
  name: "User",
  tableName: "app_user",
  properties: {
    id: p.uuid().primary(),
    /** Canonical lower-case name; also the Person actor's identifier. */
    username: p.text().unique(),
    email: p.text().nullable().unique(),
    passwordHash: p.text().hidden(),
    role: p.enum(["admin", "user"]).default("user"),
    actor: () => p.oneToOne(ActorSchema).owner(),
    disabledAt: p.datetime().nullable(),
    /** Who may read their listens and listening statistics (migration 0023). */
    listenPrivacy: p.enum(["public", "instance", "private"]).default("private"),
    createdAt: p.datetime().defaultRaw("now()"),
    updatedAt: p.datetime().defaultRaw("now()").onUpdate(() => new Date()),
  },
});

export type User = InferEntity<typeof UserSchema>;
export type Role = User["role"];
