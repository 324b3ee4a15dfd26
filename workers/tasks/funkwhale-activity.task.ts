import type { Task } from "graphile-worker";
import { getLogger } from "../../config/logging.ts";
import { applyFunkwhaleActivity, type FunkwhaleActivity } from "../../core/fediverse/funkwhale-activities.ts";
import type { LibrarySyncInbox } from "../../core/fediverse/library-sync-inbox.ts";
import { InvalidRemoteAudio } from "../../core/fediverse/remote-audio.ts";
import { RemoteDocumentError } from "../../core/fediverse/remote-documents.ts";

const log = getLogger(["polyphony", "fediverse", "funkwhale-inbox"]);

/**
 * A Funkwhale activity the inbox took before Fedify (server/http/funkwhale-inbox.ts), applied by live sync.
 * An object the pod refuses or no longer has (4xx but 408/429), or an Audio we cannot read, will not get
 * better with retries: logged, and the job ends; anything else (a pod down, a timeout) is retried.
 */
export function funkwhaleActivityTask(sync: LibrarySyncInbox): Task {
  return async (payload) => {
    const activity = payload as FunkwhaleActivity;
    try {
      await applyFunkwhaleActivity(sync, activity);
    } catch (error) {
      const status = error instanceof RemoteDocumentError ? error.status : null;
      const final = (status !== null && status >= 400 && status < 500 && status !== 408 && status !== 429) || error instanceof InvalidRemoteAudio;
      if (!final) throw error;
      log.warning("{kind} from {actor} not applied: {error}", { kind: activity.kind, actor: activity.actor, error: (error as Error).message });
    }
  };
}
