import { defineEntity, p, type InferEntity } from "@mikro-orm/core";
import { UserSchema } from "./user.entity.ts";

/** A single-use sign-up code for REGISTRATION=invite. Only the hash of the code is stored. */
export const InviteSchema = defineEntity({
  name: "Invite",
  tableName: "invite",
  properties: {
    id: p.uuid().primary(),
    codeHash: p.text().unique().hidden(),
    createdBy: () => p.manyToOne(UserSchema).deleteRule("cascade"),
    usedBy: () => p.manyToOne(UserSchema).nullable().deleteRule("set null"),
    createdAt: p.datetime().defaultRaw("now()"),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  },
});

export type Invite = InferEntity<typeof InviteSchema>;
