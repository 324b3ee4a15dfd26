import { ActorSchema } from "../accounts/actor.entity.ts";
import { ApiTokenSchema } from "../accounts/api-token.entity.ts";
import { InviteSchema } from "../accounts/invite.entity.ts";
import { SessionSchema } from "../accounts/session.entity.ts";
import { UserSchema } from "../accounts/user.entity.ts";

/** Every entity MikroORM knows about; listed explicitly (no folder discovery). */
export const entities = [ActorSchema, UserSchema, SessionSchema, ApiTokenSchema, InviteSchema];

/** Tables written with plain SQL, outside the ORM. */
export const sqlOnlyTables = ["schema_migrations", "rate_limit", "worker_heartbeat", "fedify_kv"];
