import type { ListenRecord, PlayingNowRecord } from "../../core/listens/listen-history.service.ts";
import type { RangeBounds } from "../../core/listens/listen-ranges.ts";
import type { EntityCount, StatsEntity } from "../../core/listens/listen-stats.service.ts";

// ListenBrainz's JSON shapes (its "JSON documentation" and Listen.to_api()).

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

function trackMetadata(l: Pick<ListenRecord, "trackName" | "artistName" | "releaseName" | "durationMs" | "additionalInfo">) {
  const additional: Record<string, unknown> = { ...(l.additionalInfo ?? {}) };
  if (l.durationMs !== null && additional.duration === undefined && additional.duration_ms === undefined) additional.duration_ms = l.durationMs;
  return {
    artist_name: l.artistName,
    track_name: l.trackName,
    ...(l.releaseName !== null ? { release_name: l.releaseName } : {}),
    additional_info: additional,
  };
}

export function lbListen(l: ListenRecord, userName: string) {
  const meta = trackMetadata(l);
  meta.additional_info.recording_msid = l.recordingMsid;
  if (l.client && meta.additional_info.submission_client === undefined) meta.additional_info.submission_client = l.client;
  return {
    listened_at: seconds(l.listenedAt),
    inserted_at: seconds(l.insertedAt),
    recording_msid: l.recordingMsid,
    user_name: userName,
    track_metadata: {
      ...meta,
      // What the listen matched: the MusicBrainz ids known for it (from the submission or the catalog track).
      ...(l.recordingMbid
        ? { mbid_mapping: { recording_mbid: l.recordingMbid, release_mbid: l.releaseMbid, artist_mbids: l.artistMbids } }
        : {}),
    },
  };
}

export function lbPlayingNow(p: PlayingNowRecord) {
  return { playing_now: true, track_metadata: trackMetadata({ ...p }) };
}

/** One entry of a top-N statistic, with ListenBrainz's field names per entity. */
export function lbEntity(kind: StatsEntity, e: EntityCount) {
  const artist = { artist_name: e.artistName, artist_mbids: e.artistMbids, listen_count: e.listenCount };
  switch (kind) {
    case "artist":
      return { artist_name: e.name, artist_mbid: e.mbid, artist_mbids: e.artistMbids, listen_count: e.listenCount };
    case "release":
      return { release_name: e.name, release_mbid: e.mbid, ...artist };
    case "release_group":
      return { release_group_name: e.name, release_group_mbid: e.mbid, release_mbid: e.releaseMbid, ...artist };
    case "recording":
      return { track_name: e.name, recording_mbid: e.mbid, release_name: e.releaseName, release_mbid: e.releaseMbid, ...artist };
    case "genre":
      return { genre: e.name, listen_count: e.listenCount };
  }
}

/** from_ts / to_ts / last_updated of a statistic: the range's bounds; updated now (they are live). */
export const lbRangeFields = (range: string, b: RangeBounds) => ({
  range,
  from_ts: seconds(b.from),
  to_ts: seconds(b.to),
  last_updated: Math.floor(Date.now() / 1000),
});

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** A listening-activity period's name, as ListenBrainz's: "Monday 27 April 2020", "April 2020", "2020". */
export function lbTimeRange(from: Date, unit: RangeBounds["unit"]): string {
  const year = from.getUTCFullYear();
  if (unit === "year") return String(year);
  if (unit === "month") return `${MONTHS[from.getUTCMonth()]} ${year}`;
  return `${DAYS[(from.getUTCDay() + 6) % 7]} ${from.getUTCDate()} ${MONTHS[from.getUTCMonth()]} ${year}`;
}

/** Daily activity: every weekday with its 24 hours, zero where nothing was heard. */
export function lbDailyActivity(hours: { weekday: number; hour: number; listenCount: number }[]) {
  const counted = new Map(hours.map((h) => [`${h.weekday}:${h.hour}`, h.listenCount]));
  return Object.fromEntries(DAYS.map((day, i) => [
    day,
    Array.from({ length: 24 }, (_, hour) => ({ hour, listen_count: counted.get(`${i + 1}:${hour}`) ?? 0 })),
  ]));
}
