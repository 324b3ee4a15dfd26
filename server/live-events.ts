import { getLogger } from "../config/logging.ts";
import { ANALYSIS_EVENTS_CHANNEL } from "../core/analysis/analysis-store.ts";
import type { Database } from "../core/db/database.ts";
import { PgListener } from "../core/db/pg-listener.ts";
import { CATALOG_EVENTS_CHANNEL, parseCatalogNotification } from "../core/fediverse/catalog-events.ts";
import { FOLLOW_EVENTS_CHANNEL, parseFollowNotification } from "../core/fediverse/follow-events.ts";
import { addErrorDetails, parseUploadNotification, UPLOAD_EVENTS_CHANNEL } from "../core/library/upload-events.ts";
import { LISTENS_EVENTS_CHANNEL, NOW_PLAYING_EVENTS_CHANNEL, parseListenNotification } from "../core/listens/listen-events.ts";
import { NowPlayingService } from "../core/listens/now-playing.service.ts";
import { EventStreams } from "./http/event-streams.ts";

const log = getLogger(["polyphony", "web", "events"]);

export interface LiveEvents {
  readonly streams: EventStreams;
  /** Opens the LISTEN connection (retrying in the background if the database is not there yet). */
  start(): Promise<void>;
  /** Ends every stream and closes the LISTEN connection. */
  close(): Promise<void>;
}

/**
 * Upload, follow, followed-library, listen and now-playing changes, wherever they happen (the worker imports, scans and reads
 * inboxes in its own process), reach the web process as PostgreSQL notifications on one dedicated
 * connection; each goes to the streams of the person concerned (an upload's library owner; a follow's
 * owner or follower; a remote library's followers; a person's new listens to them; their now playing to those their listen privacy allows).
 */
export function buildLiveEvents(db: Database): LiveEvents {
  const streams = new EventStreams();
  // Notifications are handled one after the other, so a slow lookup never reorders a stream's events.
  let queue = Promise.resolve();
  const listener = new PgListener({
    config: { connectionString: db.url },
    channels: [UPLOAD_EVENTS_CHANNEL, FOLLOW_EVENTS_CHANNEL, CATALOG_EVENTS_CHANNEL, NOW_PLAYING_EVENTS_CHANNEL, LISTENS_EVENTS_CHANNEL,
      ANALYSIS_EVENTS_CHANNEL],
    onNotification: (channel, payload) => {
      if (channel === ANALYSIS_EVENTS_CHANNEL) return relayAnalysisEvent(payload);
      if (channel === LISTENS_EVENTS_CHANNEL) return relayListensEvent(payload);
      if (channel === NOW_PLAYING_EVENTS_CHANNEL) return void (queue = queue.then(() => relayNowPlaying(payload)));
      if (channel === FOLLOW_EVENTS_CHANNEL) return relayFollowEvent(payload);
      if (channel === CATALOG_EVENTS_CHANNEL) return relayCatalogEvent(payload);
      queue = queue.then(async () => {
        try {
          const { ownerId, events } = parseUploadNotification(payload);
          if (streams.count(ownerId) === 0) return;
          await addErrorDetails(db.pool, events);
          for (const event of events) streams.send(ownerId, "upload", event);
        } catch (error) {
          log.error("Could not relay an upload notification: {error}", { error });
        }
      });
    },
  });
  const nowPlaying = new NowPlayingService({ pool: db.pool });
  // A person's report goes to everyone signed in here unless their listens are private (then to them alone).
  async function relayNowPlaying(payload: string): Promise<void> {
    try {
      const { userId } = parseListenNotification(payload);
      const found = await nowPlaying.ofUser(userId);
      if (!found) return;
      if (found.privacy === "private") streams.send(userId, "now_playing", found.event);
      else streams.broadcast("now_playing", found.event);
    } catch (error) {
      log.error("Could not relay a now-playing notification: {error}", { error });
    }
  }
  // A person's new listens: only their own streams hear of it.
  function relayListensEvent(payload: string): void {
    try {
      streams.send(parseListenNotification(payload).userId, "listens", {});
    } catch (error) {
      log.error("Could not relay a listens notification: {error}", { error });
    }
  }
  // A track of one of the person's libraries was analysed: their library page reads its progress again.
  function relayAnalysisEvent(payload: string): void {
    try {
      const { o: ownerId, l: libraryId } = JSON.parse(payload) as { o: string; l: string };
      streams.send(ownerId, "analysis", { libraryId });
    } catch (error) {
      log.error("Could not relay an analysis notification: {error}", { error });
    }
  }
  function relayFollowEvent(payload: string): void {
    try {
      const { userId, event } = parseFollowNotification(payload);
      streams.send(userId, "follow", event);
    } catch (error) {
      log.error("Could not relay a follow notification: {error}", { error });
    }
  }
  function relayCatalogEvent(payload: string): void {
    try {
      const { userId, event } = parseCatalogNotification(payload);
      streams.send(userId, "catalog", event);
    } catch (error) {
      log.error("Could not relay a catalog notification: {error}", { error });
    }
  }
  return {
    streams,
    start: () => listener.start(),
    async close() {
      streams.close();
      await listener.close();
      await queue;
    },
  };
}
