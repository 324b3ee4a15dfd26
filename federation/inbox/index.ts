import type { Federation } from "@fedify/fedify";
import { getLogger } from "../../config/logging.ts";
import { INBOX_PATH, SHARED_INBOX_PATH } from "../../core/accounts/actor-urls.ts";

const log = getLogger(["polyphony", "federation", "inbox"]);

/**
 * Personal and shared inboxes. Fedify verifies signatures before anything here runs; activity types
 * get one handler file each as the features that need them land (follows arrive with libraries).
 */
export function registerInbox(federation: Federation<void>): void {
  federation.setInboxListeners(INBOX_PATH, SHARED_INBOX_PATH).onError((_ctx, error) => {
    log.error("Inbox listener failed: {error}", { error });
  });
}
