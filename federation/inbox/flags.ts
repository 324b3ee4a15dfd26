import type { InboxListenerSetters } from "@fedify/fedify";
import { Flag, Hashtag } from "@fedify/vocab";
import { getLogger } from "../../config/logging.ts";
import type { RemoteActors } from "../../core/fediverse/remote-actors.ts";
import type { ReportsService } from "../../core/moderation/reports.service.ts";

const log = getLogger(["polyphony", "federation", "inbox", "flags"]);

/**
 * Reports from other servers (Flag), to the admins' queue. Funkwhale's: `object` one id (or a list of
 * one), `content` the reporter's words, the report type as a `#type` Hashtag; Mastodon's: `object` the
 * reported account and posts, `content`, sent by its instance actor. Fedify has checked the signer.
 */
export function registerFlagListeners(listeners: InboxListenerSetters<void>, deps: { reports: ReportsService; remoteActors: RemoteActors }): void {
  listeners.on(Flag, async (_ctx, flag) => {
    if (!flag.actorId) return;
    const reporter = await deps.remoteActors.resolve(flag.actorId.href).catch(() => null);
    const tags: string[] = [];
    try {
      for await (const tag of flag.getTags({ crossOrigin: "trust" })) if (tag instanceof Hashtag && tag.name) tags.push(tag.name.toString());
    } catch (error) {
      log.debug("Tags of a Flag unreadable: {error}", { error: String(error) });
    }
    await deps.reports.receive({
      fid: flag.id?.href ?? null,
      reporterFid: flag.actorId.href,
      reporterId: reporter?.id ?? null,
      objectFids: flag.objectIds.map((id) => id.href),
      content: flag.content?.toString() ?? "",
      category: tags[0]?.replace(/^#/, "") ?? null,
    });
  });
}
