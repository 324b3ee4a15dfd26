import { defineEntity, p, type InferEntity } from "@mikro-orm/core";
import { UserSchema } from "./user.entity.ts";

/** A personal API token (Authorization: Bearer). Only its hash is stored; the prefix helps people tell them apart. */
export const ApiTokenSchema = defineEntity({
  name: "ApiToken",
  tableName: "api_token",
  properties: {
    id: p.uuid().primary(),
    user: () => p.manyToOne(UserSchema).deleteRule("cascade").index(),
    name: p.text(),
    tokenHash: p.text().unique().hidden(),
    tokenPrefix: p.text(),
    createdAt: p.datetime().defaultRaw("now()"),
    lastUsedAt: p.datetime().nullable(),
    expiresAt: p.datetime().nullable(),
  },
});

export type ApiToken = InferEntity<typeof ApiTokenSchema>;
