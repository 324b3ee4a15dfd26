import type { Queryable } from "../jobs/enqueue.ts";

// Listens reach the web UI live (GET /api/v1/events): what people play now (event `now_playing`), and a
// person's own listens added or deleted (event `listens`, so their open history and statistics read again). Reports
// and listens come from every source through the listen sink (ListenIngest), in whichever process took
// them, so each travels as a PostgreSQL notification naming only the person (sent on commit); the web
// process reads the report and decides who may see it (their listen privacy).

export const NOW_PLAYING_EVENTS_CHANNEL = "polyphony_now_playing";
export const LISTENS_EVENTS_CHANNEL = "polyphony_listens";

/** Tells the web processes that `userId`'s now playing (NOW_PLAYING_EVENTS_CHANNEL) or listens changed. */
export async function notifyListenEvent(db: Queryable, channel: string, userId: string): Promise<void> {
  await db.query("SELECT pg_notify($1, json_build_object('u', $2::uuid)::text)", [channel, userId]);
}

export function parseListenNotification(payload: string): { userId: string } {
  const { u } = JSON.parse(payload) as { u: string };
  return { userId: u };
}
