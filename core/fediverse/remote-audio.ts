import { createHash } from "node:crypto";
import { cleanText } from "../media/artist-credits.ts";
import { isoDate } from "../media/tag-mapping.ts";
import type { ArtistCreditTag, TrackTags } from "../media/tags.ts";
import { idOf, type JsonObject, stringOf } from "./remote-documents.ts";

// A Funkwhale or Polyphony `Audio` object (../shared/reference/funkwhale-federation.md §3.2, §3.3) read
// from raw JSON, tolerant of both 1.4 and 2.0 shapes: `duration` in integer seconds or as an ISO 8601
// duration, `url` a list or a single Link, `artists` and/or `artist_credit`, embedded track and album.

/** An item we cannot use (no id, no title, no audio link): left out of the scan, the others kept. */
export class InvalidRemoteAudio extends Error {
  override name = "InvalidRemoteAudio";
  /** The Audio's id when it had one: a listed item, if unusable, is no reason to drop our copy. */
  readonly fid: string | null;
  constructor(fid: string | null, reason: string) {
    super(reason);
    this.fid = fid;
  }
}

/** What we keep of one remote Audio: the catalog tags, the upload's facts and the ids of what it embeds. */
export interface RemoteAudio {
  fid: string;
  /** The library it says it belongs to (the raw `library` key), if it says. */
  libraryFid: string | null;
  sourceUrl: string;
  mimeType: string | null;
  size: number;
  bitrate: number | null;
  durationMs: number | null;
  lossless: boolean | null;
  /** Shown as the upload's name: the Audio's `name` ("Artist - Album - Title"), else the title. */
  name: string;
  tags: TrackTags;
  trackFid: string | null;
  albumFid: string | null;
  /** The ids of the track's credited artists, in credit order (null where a credit has none). */
  artistFids: (string | null)[];
  /** The same for the album's artists. */
  albumArtistFids: (string | null)[];
  coverUrl: string | null;
  /** Of everything above: equal digests need no write. */
  digest: string;
}

/** Funkwhale's spellings of audio types (music/utils.py) as we store them. */
const MIME_SPELLINGS: Record<string, string> = {
  "audio/mp3": "audio/mpeg",
  "audio/mpeg3": "audio/mpeg",
  "audio/x-mp3": "audio/mpeg",
  "audio/x-m4a": "audio/mp4",
  "audio/m4a": "audio/mp4",
  "audio/x-flac": "audio/flac",
  "audio/x-aiff": "audio/aiff",
  "audio/x-wav": "audio/wav",
};
const LOSSLESS = new Set(["audio/flac", "audio/wav", "audio/aiff"]);

const asObject = (value: unknown): JsonObject | null =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonObject) : null;
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]);
const hasType = (value: JsonObject, type: string) => list(value.type).includes(type);
const httpUrl = (value: string | null) => (value && /^https?:\/\//i.test(value) && URL.canParse(value) ? value : null);

/** A non-negative integer from a number or a numeric string; null otherwise. */
function count(value: unknown): number | null {
  const n = typeof value === "string" && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) && n >= 0 ? Math.round(n) : null;
}

const ISO_DURATION = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/** Milliseconds from Funkwhale 1.4's integer seconds or 2.0's xsd:duration ("PT3M48S"); null when neither. */
export function durationMs(value: unknown): number | null {
  if (typeof value === "string") {
    const match = value.trim().match(ISO_DURATION);
    if (match && value.trim().toUpperCase() !== "P" && !/T$/i.test(value.trim())) {
      const [weeks, days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0));
      return Math.round(((((weeks! * 7 + days!) * 24 + hours!) * 60 + minutes!) * 60 + seconds!) * 1000);
    }
  }
  const seconds = typeof value === "number" ? value : typeof value === "string" && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : null;
}

/** The audio link: the first `url` entry with an audio type (a bare URL string counts when none is typed). */
function audioLink(value: unknown): { href: string; mediaType: string | null } | null {
  const links = list(value).map((entry) => {
    if (typeof entry === "string") return { href: httpUrl(entry), mediaType: null };
    const link = asObject(entry);
    return { href: httpUrl(stringOf(link?.href) ?? idOf(link?.url)), mediaType: stringOf(link?.mediaType)?.toLowerCase() ?? null };
  });
  const typed = links.find((l) => l.href && l.mediaType?.startsWith("audio/"));
  const bare = links.find((l) => l.href && l.mediaType === null);
  const found = typed ?? bare;
  return found?.href ? { href: found.href, mediaType: found.mediaType } : null;
}

interface Credit extends ArtistCreditTag {
  fid: string | null;
}

/** Credits from 2.0's `artist_credit` (names as credited, join phrases), else 1.4's `artists`. */
function credits(owner: JsonObject | null): Credit[] {
  if (!owner) return [];
  const fromCredits = list(owner.artist_credit)
    .map(asObject)
    .filter((c): c is JsonObject => c !== null)
    .map((c, order) => ({ c, artist: asObject(c.artist), index: count(c.index) ?? order }))
    .sort((a, b) => a.index - b.index)
    .flatMap(({ c, artist }) => {
      const name = cleanText(stringOf(artist?.name)) ?? cleanText(stringOf(c.credit));
      if (!name) return [];
      const joinPhrase = typeof c.joinphrase === "string" ? c.joinphrase : "";
      return [{ name, mbid: stringOf(artist?.musicbrainzId), joinPhrase, fid: idOf(artist?.id) ?? idOf(c.artist) }];
    });
  if (fromCredits.length) {
    fromCredits[fromCredits.length - 1]!.joinPhrase = "";
    return fromCredits;
  }
  const artists = list(owner.artists).flatMap((entry) => {
    const artist = asObject(entry);
    const name = cleanText(stringOf(artist?.name));
    return artist && name ? [{ name, mbid: stringOf(artist.musicbrainzId), joinPhrase: ", ", fid: idOf(artist.id) }] : [];
  });
  if (artists.length) artists[artists.length - 1]!.joinPhrase = "";
  return artists;
}

/** An Image's or Link's URL: `{url}`, `{href}`, a list of them, or a bare URL. */
function imageUrl(value: unknown): string | null {
  for (const entry of list(value)) {
    if (typeof entry === "string") return httpUrl(entry);
    const image = asObject(entry);
    const url = httpUrl(stringOf(image?.href)) ?? (typeof image?.url === "string" ? httpUrl(image.url) : imageUrl(image?.url));
    if (url) return url;
  }
  return null;
}

const tagNames = (value: unknown): string[] =>
  list(value).flatMap((tag) => {
    const name = cleanText(stringOf(asObject(tag)?.name) ?? (typeof tag === "string" ? tag : null))?.replace(/^#/, "");
    return name ? [name] : [];
  });

/**
 * Reads one Audio item of a library page (or of a Create/Update activity). Throws InvalidRemoteAudio with
 * the reason when it cannot become a playable track: no id, no title, no audio link, no embedded track.
 */
export function parseRemoteAudio(value: unknown): RemoteAudio {
  const audio = asObject(value);
  const fid = httpUrl(idOf(audio?.id));
  if (!audio || !hasType(audio, "Audio")) throw new InvalidRemoteAudio(fid, "it is not an Audio object");
  if (!fid) throw new InvalidRemoteAudio(null, "the Audio has no id");
  const link = audioLink(audio.url);
  if (!link) throw new InvalidRemoteAudio(fid, "the Audio has no audio link");
  const track = asObject(audio.track);
  if (!track) throw new InvalidRemoteAudio(fid, "the Audio embeds no track");
  const title = cleanText(stringOf(track.name));
  if (!title) throw new InvalidRemoteAudio(fid, "the track has no title");
  const album = asObject(track.album);
  const trackCredits = credits(track);
  const albumCredits = credits(album);
  const released = isoDate(stringOf(album?.released) ?? undefined);
  const mimeType = link.mediaType ? (MIME_SPELLINGS[link.mediaType] ?? link.mediaType) : null;
  const bitrate = count(audio.bitrate);
  const duration = durationMs(audio.duration);
  const disc = count(track.disc);
  const tags: TrackTags = {
    title,
    artists: trackCredits.map(({ fid: _, ...credit }) => credit),
    albumArtists: albumCredits.map(({ fid: _, ...credit }) => credit),
    album: cleanText(stringOf(album?.name)),
    trackNumber: count(track.position),
    trackTotal: null,
    discNumber: disc === 0 ? null : disc,
    discTotal: null,
    year: released ? Number(released.slice(0, 4)) : null,
    date: released,
    genres: tagNames(track.tag),
    mbids: { recording: stringOf(track.musicbrainzId), track: null, release: stringOf(album?.musicbrainzId), releaseGroup: null },
    compilation: false,
    durationSeconds: duration === null ? null : duration / 1000,
    bitrate: bitrate || null,
    sampleRate: null,
    bitDepth: null,
    channels: null,
    codec: null,
    mimeType: mimeType ?? "application/octet-stream",
    lossless: mimeType ? LOSSLESS.has(mimeType) : false,
    replayGain: { trackGain: null, trackPeak: null, albumGain: null, albumPeak: null },
    lyrics: null,
    picture: null,
  };
  const facts = {
    fid,
    libraryFid: idOf(audio.library),
    sourceUrl: link.href,
    mimeType,
    size: count(audio.size) ?? 0,
    bitrate: bitrate || null,
    durationMs: duration,
    lossless: mimeType ? LOSSLESS.has(mimeType) : null,
    name: cleanText(stringOf(audio.name)) ?? title,
    tags,
    trackFid: idOf(track.id),
    albumFid: idOf(album?.id),
    artistFids: trackCredits.map((c) => c.fid),
    albumArtistFids: (albumCredits.length ? albumCredits : trackCredits).map((c) => c.fid),
    coverUrl: imageUrl(album?.image) ?? imageUrl(album?.cover) ?? imageUrl(track.image),
  };
  // The Audio's `updated` counts too: a server may change what we do not read (and say so).
  const digest = createHash("sha256").update(JSON.stringify([facts, stringOf(audio.updated)])).digest("base64url");
  return { ...facts, digest };
}
