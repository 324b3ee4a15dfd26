import { DomainError, Invalid } from "../errors.ts";
import { parseListenBrainzSubmission } from "./listenbrainz-submission.ts";
import type { SubmittedListen } from "./listen-submission.ts";

/**
 * The listen files people bring (issue 18 point 6): ListenBrainz's export (a JSON array of listens, or
 * JSON lines, one listen a line) and Last.fm scrobble CSVs as the common export tools write them
 * (lastfm-to-csv: `artist,album,track,date` with no header, date like "31 Jan 2021 14:05", UTC; and the
 * `uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid` header form).
 */
export const LISTEN_FILE_FORMATS = ["listenbrainz-json", "listenbrainz-jsonl", "lastfm-csv", "lastfm-csv-header"] as const;
export type ListenFileFormat = (typeof LISTEN_FILE_FORMATS)[number];

const HEADER_COLUMNS = ["uts", "utc_time", "artist", "artist_mbid", "album", "album_mbid", "track", "track_mbid"];
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const LASTFM_DATE = /^(\d{1,2}) ([A-Za-z]{3})[a-z]* (\d{4}),? (\d{1,2}):(\d{2})(?::(\d{2}))?$/;

/** The format of a file from its first bytes, or null when it is none of them. */
export function detectListenFileFormat(head: string): ListenFileFormat | null {
  const text = head.replace(/^\uFEFF/, "");
  const start = text.trimStart();
  if (start.startsWith("[")) return "listenbrainz-json";
  if (start.startsWith("{")) {
    const firstLine = start.split("\n", 1)[0]!.trim();
    return firstLine.endsWith("}") ? "listenbrainz-jsonl" : null;
  }
  const firstLine = text.split(/\r?\n/, 1)[0]!.trim();
  if (!firstLine) return null;
  const columns = splitCsvLine(firstLine).map((c) => c.trim().toLowerCase());
  if (HEADER_COLUMNS.every((c, i) => columns[i] === c)) return "lastfm-csv-header";
  const fields = splitCsvLine(firstLine);
  return fields.length === 4 && lastfmDate(fields[3]!) !== null ? "lastfm-csv" : null;
}

/** One CSV line's fields (RFC 4180 quoting; a quoted field does not span lines in these exports). */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      fields.push(field);
      field = "";
    }
    else field += c;
  }
  fields.push(field);
  return fields;
}

/** "31 Jan 2021 14:05" (UTC) as a Date, or null. */
function lastfmDate(value: string): Date | null {
  const m = LASTFM_DATE.exec(value.trim());
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  if (month < 0) return null;
  const date = new Date(Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
  return Number.isNaN(date.getTime()) ? null : date;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * One listen of a ListenBrainz export, checked as submit-listens checks an `import` listen (its limits
 * and messages). The export's own keys (inserted_at, user_name, recording_msid, and mbid_mapping, LB's
 * own matching) are not part of a submission and are dropped.
 */
export function listenFromListenBrainzExport(item: unknown): SubmittedListen {
  if (!isObject(item)) throw new Invalid("Not a listen (a JSON object with listened_at and track_metadata)");
  const meta = isObject(item.track_metadata) ? { ...item.track_metadata } : item.track_metadata;
  if (isObject(meta)) {
    delete meta.mbid_mapping;
    if (isObject(meta.additional_info)) {
      const info = { ...meta.additional_info };
      delete info.recording_msid;
      meta.additional_info = info;
    }
  }
  const body = { listen_type: "import", payload: [{ listened_at: item.listened_at, track_metadata: meta }] };
  return parseListenBrainzSubmission(Buffer.from(JSON.stringify(body))).listens[0]!;
}

/** One CSV row of a Last.fm export as a listen; throws Invalid with what is wrong. */
export function listenFromLastfmCsv(fields: string[], format: "lastfm-csv" | "lastfm-csv-header"): SubmittedListen {
  let artist: string, album: string, track: string, listenedAt: Date | null;
  let artistMbid = "", albumMbid = "", trackMbid = "";
  if (format === "lastfm-csv") {
    if (fields.length < 4) throw new Invalid("Expected 4 columns: artist,album,track,date");
    [artist, album, track] = [fields[0]!, fields[1]!, fields[2]!];
    listenedAt = lastfmDate(fields[3]!);
    if (!listenedAt) throw new Invalid(`Unreadable date "${fields[3]}" (expected like "31 Jan 2021 14:05")`);
  } else {
    if (fields.length < 8) throw new Invalid("Expected 8 columns: uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid");
    [artist, artistMbid, album, albumMbid, track, trackMbid] = [fields[2]!, fields[3]!, fields[4]!, fields[5]!, fields[6]!, fields[7]!];
    const uts = fields[0]!.trim();
    listenedAt = /^\d+$/.test(uts) ? new Date(Number(uts) * 1000) : lastfmDate(fields[1]!);
    if (!listenedAt) throw new Invalid(`Unreadable timestamp "${uts}"`);
  }
  // Through LB's checks too (timestamp bounds, empty names, MBIDs), so both kinds of file obey one rule.
  const info: Record<string, unknown> = { submission_client: "Last.fm export" };
  // Last.fm's track mbid is a MusicBrainz recording id; its album mbid a release id.
  if (trackMbid.trim()) info.recording_mbid = trackMbid.trim();
  if (albumMbid.trim()) info.release_mbid = albumMbid.trim();
  if (artistMbid.trim()) info.artist_mbids = [artistMbid.trim()];
  const meta: Record<string, unknown> = { artist_name: artist, track_name: track, additional_info: info };
  if (album.trim()) meta.release_name = album;
  return listenFromListenBrainzExport({ listened_at: Math.floor(listenedAt.getTime() / 1000), track_metadata: meta });
}

/** A line's problem as a person reads it. */
export function lineError(error: unknown): string {
  if (error instanceof DomainError) return error.message;
  if (error instanceof SyntaxError) return `Not valid JSON: ${error.message}`;
  throw error;
}
