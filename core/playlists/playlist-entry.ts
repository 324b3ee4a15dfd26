import { Invalid } from "../errors.ts";
import { validMbid } from "../library/normalize.ts";

/** Larger files are refused before parsing (413); more entries than this are refused after (400). */
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;
export const MAX_PLAYLIST_ITEMS = 10_000;

/** Text fields of one entry are cut to this: a playlist line is no place for a novel. */
const MAX_FIELD = 1000;
const MAX_LOCATION = 4096;
/** duration_ms is a PostgreSQL integer. */
const MAX_DURATION_MS = 2 ** 31 - 1;

/** One entry of a playlist file, as read from it or as written to it. */
export interface PlaylistEntry {
  title: string;
  artist: string;
  album: string;
  durationMs: number | null;
  /** MusicBrainz recording id. */
  mbid: string | null;
  /** M3U8 path or URL line; XSPF `<location>`. */
  location: string | null;
}

export interface ParsedPlaylist {
  name: string | null;
  description: string | null;
  entries: PlaylistEntry[];
}

/** Called before each entry is added, so a huge file stops at the limit rather than after parsing it all. */
export function checkEntryCount(count: number): void {
  if (count > MAX_PLAYLIST_ITEMS) {
    throw new Invalid(
      `A playlist file may hold at most ${MAX_PLAYLIST_ITEMS} entries`,
      [{ path: "body", message: `More than ${MAX_PLAYLIST_ITEMS} entries` }],
      "too_many_entries",
    );
  }
}

/** Control characters out, trimmed, bounded. */
export function cleanText(value: string | null | undefined, max = MAX_FIELD): string {
  return (value ?? "").replace(/\p{Cc}+/gu, " ").trim().slice(0, max);
}

export function validDuration(ms: number): number | null {
  return Number.isFinite(ms) && ms > 0 && ms <= MAX_DURATION_MS ? Math.round(ms) : null;
}

export function toEntry(values: Partial<PlaylistEntry>): PlaylistEntry {
  return {
    title: cleanText(values.title),
    artist: cleanText(values.artist),
    album: cleanText(values.album),
    durationMs: values.durationMs ?? null,
    mbid: validMbid(values.mbid),
    location: cleanText(values.location, MAX_LOCATION) || null,
  };
}
