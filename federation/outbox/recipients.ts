import type { Recipient } from "@fedify/vocab";
import type { PublicationRecipient } from "../../core/fediverse/library-publications.ts";

/** A follower to deliver to, as Fedify's sendActivity takes it (the shared inbox preferred when known). */
export const asRecipient = (r: PublicationRecipient): Recipient => ({
  id: new URL(r.id),
  inboxId: r.inbox ? new URL(r.inbox) : null,
  endpoints: { sharedInbox: r.sharedInbox ? new URL(r.sharedInbox) : null },
});
