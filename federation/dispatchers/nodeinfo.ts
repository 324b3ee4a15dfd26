import type { Federation } from "@fedify/fedify";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Registration } from "../../config/env.ts";
import { SOFTWARE_NAME, VERSION } from "../../config/version.ts";
import { INSTANCE_ACTOR } from "../../core/accounts/actor-urls.ts";
import { LIBRARY_INDEX_PATH } from "../../core/fediverse/object-urls.ts";

export const NODEINFO_21_PATH = "/nodeinfo/2.1";

interface UsageRow {
  total: number;
  month: number;
  halfyear: number;
}

/** NodeInfo 2.1 (Fedify renders it); server/ adds the 2.0 document and the discovery links to both. */
export function registerNodeInfo(
  federation: Federation<void>,
  deps: { orm: MikroORM; registration: () => Promise<Registration>; nodeName: string },
): void {
  federation.setNodeInfoDispatcher(NODEINFO_21_PATH, async (ctx) => {
    const [usage] = await deps.orm.em.fork().execute<UsageRow[]>(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE last_seen > now() - interval '30 days')::int AS month,
              count(*) FILTER (WHERE last_seen > now() - interval '180 days')::int AS halfyear
       FROM (SELECT u.id, (SELECT max(s.last_seen_at) FROM user_session s WHERE s.user_id = u.id) AS last_seen
             FROM app_user u WHERE u.disabled_at IS NULL) t`,
    );
    return {
      software: { name: SOFTWARE_NAME, version: VERSION },
      protocols: ["activitypub"],
      services: { inbound: [], outbound: [] },
      openRegistrations: (await deps.registration()) === "open",
      usage: {
        users: { total: usage?.total ?? 0, activeMonth: usage?.month ?? 0, activeHalfyear: usage?.halfyear ?? 0 },
        localPosts: 0,
        localComments: 0,
      },
      metadata: {
        nodeName: deps.nodeName,
        actorId: ctx.getActorUri(INSTANCE_ACTOR).href,
        // Where other servers (Funkwhale's shape) find our public libraries to follow them all.
        endpoints: { libraries: new URL(LIBRARY_INDEX_PATH, ctx.origin).href },
      },
    };
  });
}
