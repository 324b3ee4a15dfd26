import { defineEntity, p, type InferEntity } from "@mikro-orm/core";
import { ActorSchema } from "../accounts/actor.entity.ts";

/** A server we know (migration 0016): what its NodeInfo says it runs, when we saw it, and moderation. */
export const DomainSchema = defineEntity({
  name: "Domain",
  tableName: "domain",
  properties: {
    /** Host, lower case, with the port when not the default. */
    name: p.text().primary(),
    /** NodeInfo software.name and .version: some shapes depend on them (Funkwhale 1.4 vs 2.0). */
    softwareName: p.text().nullable(),
    softwareVersion: p.text().nullable(),
    /** NodeInfo metadata.actorId: the actor that may update that server's catalog objects. */
    serviceActor: () => p.manyToOne(ActorSchema).nullable().deleteRule("set null"),
    firstSeenAt: p.datetime().defaultRaw("now()"),
    lastSeenAt: p.datetime().defaultRaw("now()"),
    /** Its activities and fetches are refused. */
    blocked: p.boolean().default(false),
    /** Its content stays out of shared views. */
    silenced: p.boolean().default(false),
    /** On the list FEDERATION_MODE=allowlist federates with (migration 0022). */
    allowed: p.boolean().default(false),
  },
});

export type Domain = InferEntity<typeof DomainSchema>;
