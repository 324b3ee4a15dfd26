import { randomUUID } from "node:crypto";
import type { Federation } from "@fedify/fedify";
import { Collection, Delete, type Recipient, Update } from "@fedify/vocab";
import type { Task } from "graphile-worker";
import type pg from "pg";
import type { PublicationRecipient } from "../../core/fediverse/library-publications.ts";
import { objectUrls } from "../../core/fediverse/object-urls.ts";
import { playlistAudience, type PlaylistPublication } from "../../core/fediverse/playlist-publications.ts";

const asRecipient = (r: PublicationRecipient): Recipient => ({
  id: new URL(r.id),
  inboxId: r.inbox ? new URL(r.inbox) : null,
  endpoints: { sharedInbox: r.sharedInbox ? new URL(r.sharedInbox) : null },
});

/**
 * Tells a local playlist's followers elsewhere that it changed (Update: read it again) or is gone
 * (Delete), as core/fediverse/playlist-publications.ts queued it. The owner's Person actor signs, as
 * Funkwhale 2.0 sends playlist activities: the playlist's own actor answers 404 once it is private. The
 * object is the Playlist collection by id (a Collection to Fedify, which has no Playlist type).
 */
export function publishPlaylistTask(deps: { federation: Federation<void>; pool: pg.Pool; publicUrl: URL }): Task {
  const urls = objectUrls(deps.publicUrl);
  return async (payload) => {
    const publication = payload as PlaylistPublication;
    const ctx = deps.federation.createContext(deps.publicUrl, undefined);
    const object = new Collection({ id: new URL(urls.playlist(publication.playlistId)) });
    if (publication.kind === "delete") {
      const actor = ctx.getActorUri(publication.ownerUsername);
      const activity = new Delete({ id: new URL(`${actor.href}#delete-playlist/${randomUUID()}`), actor, object, tos: publication.recipients.map((r) => new URL(r.id)) });
      await ctx.sendActivity({ identifier: publication.ownerUsername }, publication.recipients.map(asRecipient), activity, { preferSharedInbox: true });
      return;
    }
    // Deleted or made private since: its Delete told the followers.
    const audience = await playlistAudience(deps.pool, publication.playlistId);
    if (!audience?.recipients.length) return;
    const actor = ctx.getActorUri(audience.ownerUsername);
    const activity = new Update({ id: new URL(`${object.id!.href}#update/${randomUUID()}`), actor, object, tos: audience.recipients.map((r) => new URL(r.id)) });
    await ctx.sendActivity({ identifier: audience.ownerUsername }, audience.recipients.map(asRecipient), activity, { preferSharedInbox: true });
  };
}
