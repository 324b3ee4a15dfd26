import type { Task } from "graphile-worker";
import { applyFunkwhaleActivity, type FunkwhaleActivity } from "../../core/fediverse/funkwhale-activities.ts";
import type { LibrarySyncInbox } from "../../core/fediverse/library-sync-inbox.ts";

/** A Funkwhale activity the inbox took before Fedify (server/http/funkwhale-inbox.ts), applied by live sync. */
export function funkwhaleActivityTask(sync: LibrarySyncInbox): Task {
  return async (payload) => applyFunkwhaleActivity(sync, payload as FunkwhaleActivity);
}
