import type { Queryable } from "../jobs/enqueue.ts";
import { acceptedFollowersSql } from "./follows.queries.ts";

// A followed remote library's music changed here (a scan page, a vanished item, a live Create/Update/
// Delete(Audio)): the people who see it (its accepted local followers) are told live (GET /api/v1/events,
// event `catalog`), so their open lists read the catalog again. Scans and inboxes run in the worker, so
// the change travels as a PostgreSQL notification, sent on commit (identical ones within one transaction
// are sent once).

export const CATALOG_EVENTS_CHANNEL = "polyphony_catalog";

/** The `catalog` event: music of this library was added, changed or removed. */
export interface CatalogEvent {
  libraryId: string;
}

/** Queues the event for every accepted local follower of remote library `libraryId`, in the caller's transaction. */
export async function notifyCatalogChanged(db: Queryable, libraryId: string): Promise<void> {
  await db.query(
    `SELECT pg_notify($1, json_build_object('u', u.id, 'e', json_build_object('libraryId', f.library_id))::text)
     FROM ${acceptedFollowersSql("$2::uuid", "local")}`,
    [CATALOG_EVENTS_CHANNEL, libraryId],
  );
}

export function parseCatalogNotification(payload: string): { userId: string; event: CatalogEvent } {
  const { u, e } = JSON.parse(payload) as { u: string; e: CatalogEvent };
  return { userId: u, event: { libraryId: e.libraryId } };
}
