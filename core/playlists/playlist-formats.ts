import { Invalid, TooLarge } from "../errors.ts";
import { parseM3u8, toM3u8 } from "./m3u8.ts";
import { MAX_IMPORT_BYTES, type ParsedPlaylist, type PlaylistEntry } from "./playlist-entry.ts";
import { parseXspf, toXspf } from "./xspf.ts";

export const PLAYLIST_FORMATS = ["m3u8", "xspf"] as const;
export type PlaylistFormat = (typeof PLAYLIST_FORMATS)[number];

export interface PlaylistFile {
  contentType: string;
  extension: string;
  body: string;
}

const CONTENT_TYPES: Record<string, PlaylistFormat> = {
  "audio/x-mpegurl": "m3u8",
  "audio/mpegurl": "m3u8",
  "application/x-mpegurl": "m3u8",
  "application/vnd.apple.mpegurl": "m3u8",
  "application/xspf+xml": "xspf",
};

/** The format of an uploaded file: the one named in the query first, else the content type's. */
export function formatOf(named: PlaylistFormat | undefined, contentType: string | undefined): PlaylistFormat {
  if (named) return named;
  const format = CONTENT_TYPES[(contentType ?? "").split(";")[0]!.trim().toLowerCase()];
  if (!format) {
    throw new Invalid("Send the playlist as audio/x-mpegurl, application/vnd.apple.mpegurl or application/xspf+xml, or name it in ?format=", [
      { path: "format", message: "Unknown playlist format" },
    ]);
  }
  return format;
}

export function parsePlaylist(format: PlaylistFormat, text: string): ParsedPlaylist {
  if (Buffer.byteLength(text) > MAX_IMPORT_BYTES) {
    throw new TooLarge(`Playlist files are limited to ${MAX_IMPORT_BYTES / 1024 / 1024} MiB`, "payload_too_large");
  }
  const clean = text.replace(/^\uFEFF/, "");
  return format === "m3u8" ? parseM3u8(clean) : parseXspf(clean);
}

export function serializePlaylist(
  format: PlaylistFormat,
  meta: { name: string; description: string },
  entries: PlaylistEntry[],
): PlaylistFile {
  return format === "m3u8"
    ? { contentType: "audio/x-mpegurl; charset=utf-8", extension: "m3u8", body: toM3u8(meta.name, entries) }
    : { contentType: "application/xspf+xml; charset=utf-8", extension: "xspf", body: toXspf(meta, entries) };
}
