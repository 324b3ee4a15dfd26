import type { SubmittedListen } from "../listens/listen-submission.ts";
import { LASTFM_ERRORS, LastfmError } from "./lastfm-error.ts";

/** Last.fm's limit per track.scrobble request. */
export const MAX_SCROBBLES = 50;
/** The oldest listen any of our APIs keeps (ListenBrainz's LISTEN_MINIMUM_TS, 2002-10-01). */
export const OLDEST_LISTEN_S = 1_033_410_600;
/** Clock skew a scrobbler may have ahead of ours (ListenBrainz's allowance). */
export const FUTURE_SKEW_S = 3600;
const MAX_DURATION_S = 24 * 86_400;
const MAX_NAME = 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Last.fm's ignoredMessage codes and texts. */
export const IGNORED = {
  ARTIST: { code: 1, message: "Artist was ignored" },
  TRACK: { code: 2, message: "Track was ignored" },
  TOO_OLD: { code: 3, message: "Timestamp was too old" },
  TOO_NEW: { code: 4, message: "Timestamp was too new" },
} as const;

export type Ignored = (typeof IGNORED)[keyof typeof IGNORED];

/** One scrobble as the reply echoes it, and the listen it became unless ignored. */
export interface ParsedScrobble {
  artist: string;
  track: string;
  album: string;
  albumArtist: string;
  timestamp: string;
  listen: SubmittedListen | null;
  ignored: Ignored | null;
}

export type TrackFields = Omit<SubmittedListen, "listenedAt" | "client" | "trackId">;

const invalid = (message: string) => new LastfmError(LASTFM_ERRORS.INVALID_PARAMETERS, `Invalid parameters - ${message}`);

/**
 * track.scrobble's parameters: `artist[i]`, `track[i]`, `timestamp[i]` (required), `album[i]`,
 * `albumArtist[i]`, `duration[i]`, `trackNumber[i]`, `mbid[i]`, with i from 0 to 49; a single
 * scrobble may also come without brackets. Missing required fields fail the request (error 6); a
 * bad name or time only ignores that scrobble, with its ignoredMessage code, as Last.fm does.
 */
export function parseScrobbles(params: Record<string, string>, now = Date.now()): ParsedScrobble[] {
  const indices = new Set<number>();
  for (const name of Object.keys(params)) {
    const match = /^[A-Za-z]+\[(\d+)\]$/.exec(name);
    if (match) indices.add(Number(match[1]));
  }
  const fieldsOf = indices.size
    ? [...indices].sort((a, b) => a - b).map((i) => (field: string) => params[`${field}[${i}]`])
    : [(field: string) => params[field]];
  if ([...indices].some((i) => i >= MAX_SCROBBLES)) throw invalid(`at most ${MAX_SCROBBLES} scrobbles per request (indices 0 to ${MAX_SCROBBLES - 1})`);
  return fieldsOf.map((field, n) => {
    const [artist, track, timestamp] = [field("artist"), field("track"), field("timestamp")];
    const which = indices.size ? `[${[...indices].sort((a, b) => a - b)[n]}]` : "";
    if (artist === undefined || track === undefined || timestamp === undefined) throw invalid(`artist${which}, track${which} and timestamp${which} are required`);
    if (!/^\d{1,12}$/.test(timestamp.trim())) throw invalid(`timestamp${which} must be a UNIX time in seconds`);
    const seconds = Number(timestamp.trim());
    const echo = { artist, track, album: field("album") ?? "", albumArtist: field("albumArtist") ?? "", timestamp };
    const fields = trackFields(field);
    const ignored = ignoredBecause(fields, seconds, now);
    return { ...echo, ignored, listen: ignored ? null : { ...(fields as TrackFields), listenedAt: new Date(seconds * 1000) } };
  });
}

/** track.updateNowPlaying's parameters (no brackets); artist and track are required. */
export function parseNowPlaying(params: Record<string, string>): { fields: TrackFields; ignored: Ignored | null; echo: Omit<ParsedScrobble, "timestamp" | "listen" | "ignored"> } {
  const field = (name: string) => params[name];
  if (params.artist === undefined || params.track === undefined) throw invalid("artist and track are required");
  const fields = trackFields(field);
  const ignored = ignoredBecause(fields, Math.floor(Date.now() / 1000), Date.now());
  return { fields: fields as TrackFields, ignored, echo: { artist: params.artist, track: params.track, album: params.album ?? "", albumArtist: params.albumArtist ?? "" } };
}

function trackFields(field: (name: string) => string | undefined): Partial<TrackFields> {
  const mbid = field("mbid")?.trim();
  const duration = Number(field("duration"));
  const trackNumber = Number(field("trackNumber"));
  return {
    artistName: field("artist")?.trim(),
    trackName: field("track")?.trim(),
    releaseName: field("album")?.trim() || null,
    // Optional values that make no sense are dropped, not refused: the listen still counts.
    durationMs: Number.isInteger(duration) && duration > 0 && duration <= MAX_DURATION_S ? duration * 1000 : null,
    trackNumber: Number.isInteger(trackNumber) && trackNumber > 0 && trackNumber < 100_000 ? trackNumber : null,
    recordingMbid: mbid && UUID.test(mbid) ? mbid.toLowerCase() : null,
  };
}

function ignoredBecause(fields: Partial<TrackFields>, seconds: number, now: number): Ignored | null {
  if (!usableName(fields.artistName)) return IGNORED.ARTIST;
  if (!usableName(fields.trackName)) return IGNORED.TRACK;
  if (fields.releaseName && !usableName(fields.releaseName)) return IGNORED.TRACK;
  if (seconds < OLDEST_LISTEN_S) return IGNORED.TOO_OLD;
  if (seconds > now / 1000 + FUTURE_SKEW_S) return IGNORED.TOO_NEW;
  return null;
}

/** Text columns refuse U+0000; an empty or absurdly long name is not a track anyone played. */
function usableName(name: string | null | undefined): name is string {
  return !!name && name.length <= MAX_NAME && !name.includes("\u0000");
}
