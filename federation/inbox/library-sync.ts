import type { InboxListenerSetters } from "@fedify/fedify";
import { Audio, Create, Delete, Update } from "@fedify/vocab";
import type { LibrarySyncInbox } from "../../core/fediverse/library-sync-inbox.ts";
import type { PlaylistSyncInbox } from "../../core/fediverse/playlist-sync-inbox.ts";

/**
 * Create/Update/Delete from the actor of a library we follow (funkwhale-federation.md §3.5): what they
 * name is handed to LibrarySyncInbox, which reads each Audio again from its server. An Update of
 * something that is not Audio is read as Update(Library) (our own Update carries a Collection), or
 * Update(Playlist) when it names a playlist followed here; a Delete likewise (PlaylistSyncInbox).
 */
export function registerLibrarySyncListeners(listeners: InboxListenerSetters<void>, inbox: LibrarySyncInbox, playlists: PlaylistSyncInbox): void {
  listeners
    .on(Create, async (_ctx, create) => {
      if (create.actorId) await inbox.receiveAudio(create.actorId.href, create.objectIds.map((id) => id.href));
    })
    .on(Update, async (_ctx, update) => {
      if (!update.actorId) return;
      const object = await update.getObject({ crossOrigin: "trust" }).catch(() => null);
      const ids = update.objectIds.map((id) => id.href);
      if (object instanceof Audio) await inbox.receiveAudio(update.actorId.href, ids);
      else if (await playlists.receiveUpdate(update.actorId.href, ids)) return;
      else for (const id of ids) await inbox.receiveLibraryUpdate(update.actorId.href, id);
    })
    .on(Delete, async (_ctx, del) => {
      if (!del.actorId) return;
      const ids = del.objectIds.map((id) => id.href);
      if (!(await playlists.receiveDelete(del.actorId.href, ids))) await inbox.receiveDelete(del.actorId.href, ids);
    });
}
