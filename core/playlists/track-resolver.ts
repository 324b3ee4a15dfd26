import path from "node:path";
import { visibleCopiesSql } from "../catalog/catalog-read.ts";
import type { Queryable } from "../jobs/enqueue.ts";
import { normalizeName } from "../library/normalize.ts";
import type { PlaylistEntry } from "./playlist-entry.ts";

/** How far a file's duration may be from the catalog's for a name match. */
const DURATION_TOLERANCE_MS = 3000;

/**
 * Our own track URLs, as the HTTP layer writes them: exported playlists point at them, and importing
 * one back resolves them by track id.
 */
export interface TrackLinks {
  /** The absolute URL of a track (its stream). */
  urlOf(trackId: string): string;
  /** The track id one of our URLs names (lower case), or undefined for any other URL. */
  trackIdOf(url: URL): string | undefined;
}

/** Track `t` has a finished copy the viewer ($1) may see. */
const TRACK_IS_VISIBLE = `EXISTS (SELECT 1 FROM ${visibleCopiesSql("t.id", { viewer: "$1" })})`;
/** Names compared without case (normalizeName on our side, the normalized columns on theirs) or accents. */
const key = (sql: string) => `unaccent(${sql})`;

export type Unmatched = "no_match" | "no_metadata";

/** What each entry resolved to: a track id, or why not. */
export type Resolution = { trackId: string } | { trackId: null; reason: Unmatched };

interface Candidate {
  i: number;
  trackId: string | null;
  mbid: string | null;
  artist: string;
  title: string;
  durationMs: number | null;
  fileName: string | null;
}

/**
 * Finds the catalog track each playlist entry means, among the tracks `viewerId` may see: our own
 * stream URL first (an exported playlist coming back), then the MusicBrainz recording id, then artist
 * + title + duration (±3 s), then the upload's original file name. Each step is one set-based query
 * over the entries still unresolved, so a 10000-entry file costs four queries, not 40000.
 */
export async function resolveTracks(db: Queryable, viewerId: string, links: TrackLinks, entries: PlaylistEntry[]): Promise<Resolution[]> {
  const found = new Map<number, string>();
  let open = entries.map((e, i) => candidate(e, i, links));
  const step = async (usable: (c: Candidate) => boolean, sql: string) => {
    const rows = open.filter(usable);
    if (rows.length === 0) return;
    const { rows: hits } = await db.query(sql, [viewerId, JSON.stringify(rows)]);
    for (const hit of hits as { i: number; id: string }[]) found.set(hit.i, hit.id);
    open = open.filter((c) => !found.has(c.i));
  };
  await step((c) => c.trackId !== null, BY_TRACK_ID);
  await step((c) => c.mbid !== null, BY_MBID);
  await step((c) => c.artist !== "" && c.title !== "", BY_NAME);
  await step((c) => c.fileName !== null, BY_FILE_NAME);
  return entries.map((e, i) => {
    const trackId = found.get(i);
    if (trackId) return { trackId };
    const searchable = e.mbid || (e.artist && e.title) || e.location;
    return { trackId: null, reason: searchable ? "no_match" : "no_metadata" };
  });
}

function candidate(e: PlaylistEntry, i: number, links: TrackLinks): Candidate {
  const url = parseLocation(e.location);
  const ownTrack = url ? links.trackIdOf(url) : undefined;
  const base = url ? path.posix.basename(safeDecode(url.pathname)) : "";
  return {
    i,
    trackId: ownTrack?.toLowerCase() ?? null,
    mbid: e.mbid,
    artist: normalizeName(e.artist),
    title: normalizeName(e.title),
    durationMs: e.durationMs,
    // Only names that look like audio files: "stream" or "Artist - Title" lines name no upload.
    fileName: /\.[a-z0-9]{2,5}$/i.test(base) ? base : null,
  };
}

/** Locations are URLs, file URLs, or local paths (Windows ones too); all read as URL paths. */
function parseLocation(location: string | null): URL | null {
  if (!location) return null;
  try {
    return /^[a-z][a-z0-9+.-]+:\/\//i.test(location)
      ? new URL(location)
      : new URL(`file:///${location.replaceAll("\\", "/").replace(/^\/+/, "")}`);
  } catch {
    return null;
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const ENTRIES = `jsonb_to_recordset($2::jsonb) AS e(i int, "trackId" uuid, mbid uuid, artist text, title text,
  "durationMs" int, "fileName" text)`;

const BY_TRACK_ID = `SELECT e.i, t.id FROM ${ENTRIES} JOIN track t ON t.id = e."trackId" WHERE ${TRACK_IS_VISIBLE}`;

const BY_MBID = `SELECT DISTINCT ON (e.i) e.i, t.id FROM ${ENTRIES} JOIN track t ON t.mbid = e.mbid
  WHERE ${TRACK_IS_VISIBLE} ORDER BY e.i, t.created_at, t.id`;

// The artist matches the track's main artist, any credited artist (by name or as credited), or the
// whole credit as written ("Band feat. Guest").
const ARTIST_MATCHES = `(
  EXISTS (SELECT 1 FROM artist a WHERE a.id = t.artist_id AND ${key("a.normalized_name")} = ${key("e.artist")})
  OR EXISTS (SELECT 1 FROM artist_credit c JOIN artist a ON a.id = c.artist_id WHERE c.track_id = t.id
             AND ${key("e.artist")} IN (${key("a.normalized_name")}, ${key("lower(c.credited_name)")}))
  OR ${key("e.artist")} = (SELECT ${key("lower(string_agg(c.credited_name || c.join_phrase, '' ORDER BY c.position))")}
                           FROM artist_credit c WHERE c.track_id = t.id))`;

// The closest visible copy decides the duration; files or uploads without a duration match on names alone.
const BY_NAME = `SELECT DISTINCT ON (e.i) e.i, t.id FROM ${ENTRIES}
  JOIN track t ON ${key("t.normalized_title")} = ${key("e.title")}
  JOIN LATERAL (SELECT u.duration_ms FROM ${visibleCopiesSql("t.id", { viewer: "$1" })}
                ORDER BY abs(coalesce(u.duration_ms - e."durationMs", 0)) LIMIT 1) best ON true
  WHERE ${ARTIST_MATCHES}
    AND (e."durationMs" IS NULL OR best.duration_ms IS NULL OR abs(best.duration_ms - e."durationMs") <= ${DURATION_TOLERANCE_MS})
  ORDER BY e.i, abs(coalesce(best.duration_ms - e."durationMs", 0)), t.created_at, t.id`;

const BY_FILE_NAME = `SELECT DISTINCT ON (e.i) e.i, u.track_id AS id FROM ${ENTRIES}
  JOIN LATERAL (SELECT u.track_id, u.created_at, u.id FROM ${visibleCopiesSql(null, { viewer: "$1" })}
    AND lower(u.original_name) = lower(e."fileName") AND u.track_id IS NOT NULL) u ON true
  ORDER BY e.i, u.created_at, u.id`;
