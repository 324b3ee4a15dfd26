import type { Federation } from "@fedify/fedify";
import { getLogger } from "../../config/logging.ts";
import { INBOX_PATH, SHARED_INBOX_PATH } from "../../core/accounts/actor-urls.ts";
import type { FollowInbox } from "../../core/fediverse/follow-inbox.ts";
import type { LibrarySyncInbox } from "../../core/fediverse/library-sync-inbox.ts";
import type { RemoteActors } from "../../core/fediverse/remote-actors.ts";
import type { ReportsService } from "../../core/moderation/reports.service.ts";
import { registerFlagListeners } from "./flags.ts";
import type { PlaylistSyncInbox } from "../../core/fediverse/playlist-sync-inbox.ts";
import { registerFollowListeners } from "./follows.ts";
import { registerLibrarySyncListeners } from "./library-sync.ts";

const log = getLogger(["polyphony", "federation", "inbox"]);

export interface InboxDeps {
  follows: FollowInbox;
  librarySync: LibrarySyncInbox;
  reports: ReportsService;
  remoteActors: RemoteActors;
  playlistSync: PlaylistSyncInbox;
}

/**
 * Personal and shared inboxes. Fedify verifies signatures (and that the signer is the activity's actor)
 * before anything here runs; each kind of activity has its own file of listeners.
 */
export function registerInbox(federation: Federation<void>, deps: InboxDeps): void {
  const listeners = federation.setInboxListeners(INBOX_PATH, SHARED_INBOX_PATH).onError((_ctx, error) => {
    log.error("Inbox listener failed: {error}", { error });
  });
  registerFollowListeners(listeners, deps.follows);
  registerLibrarySyncListeners(listeners, deps.librarySync, deps.playlistSync);
  registerFlagListeners(listeners, deps);
}
