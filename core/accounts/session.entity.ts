import { defineEntity, p, type InferEntity } from "@mikro-orm/core";
import { UserSchema } from "./user.entity.ts";

/** A login session. Only the hash of the cookie's token is stored. */
export const SessionSchema = defineEntity({
  name: "Session",
  tableName: "user_session",
  properties: {
    id: p.uuid().primary(),
    user: () => p.manyToOne(UserSchema).deleteRule("cascade").index(),
    tokenHash: p.text().unique().hidden(),
    /** Sent back by the web UI in X-CSRF-Token on every cookie-authenticated write. */
    csrfToken: p.text().hidden(),
    userAgent: p.text().nullable(),
    createdAt: p.datetime().defaultRaw("now()"),
    lastSeenAt: p.datetime().defaultRaw("now()"),
    expiresAt: p.datetime(),
  },
});

export type Session = InferEntity<typeof SessionSchema>;
