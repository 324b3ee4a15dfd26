import type {
  AlbumRow,
  ArtistCreditRow,
  ArtistRow,
  AudioLibrary,
  LibraryAudioRow,
  LibraryCollectionHead,
  TrackRow,
} from "../../core/fediverse/library-collection.queries.ts";
import { type AudioShape, DEFAULT_AUDIO_SHAPE } from "../../core/fediverse/domains.ts";
import type { Privacy } from "../../core/library/library.entity.ts";
import { LIBRARY_PAGE_SIZE } from "../../core/fediverse/library-collection.queries.ts";
import type { ObjectUrls } from "../../core/fediverse/object-urls.ts";

// A local library as Funkwhale reads one (../shared/reference/funkwhale-federation.md §2.1, §2.2, §3.2,
// §3.3): plain JSON with Funkwhale's compact term names, since its inbound pipeline matches raw keys.
// Both the 1.4 keys (`artists`) and the 2.0 ones (`artist_credit`) are emitted; `duration` is integer
// seconds for 1.4 (which rejects strings) or an xsd:duration for 2.0 (which rejects integers): AudioShape.
// Objects embedded in a page carry no @context; the same shapes fetched at their ids do (`*Document`).

export const FUNKWHALE_CONTEXT = [
  "https://www.w3.org/ns/activitystreams",
  "https://w3id.org/security/v1",
  "https://funkwhale.audio/ns",
  { manuallyApprovesFollowers: "as:manuallyApprovesFollowers", Hashtag: "as:Hashtag" },
];
const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

/** Funkwhale's spellings of the MIME types it knows (music/utils.py); others pass as they are. */
const FUNKWHALE_MIME: Record<string, string> = { "audio/mp4": "audio/x-m4a" };

/** Funkwhale's `audience` (and an Audio's `to`): Public for a public library, else the empty string. */
const audienceOf = (privacy: Privacy) => (privacy === "public" ? PUBLIC : "");

const withContext = <T extends object>(object: T) => ({ "@context": FUNKWHALE_CONTEXT, ...object });

export function lastPage(totalItems: number): number {
  return Math.max(1, Math.ceil(totalItems / LIBRARY_PAGE_SIZE));
}

/** The collection itself: metadata, counts and page links, readable by anyone holding its URL. */
export function libraryDocument(library: LibraryCollectionHead, urls: ObjectUrls) {
  const first = urls.libraryPage(library.id, 1);
  return {
    "@context": FUNKWHALE_CONTEXT,
    type: "Library",
    id: urls.library(library.id),
    attributedTo: library.actorFid,
    name: library.name,
    summary: library.description || null,
    totalItems: library.totalItems,
    first,
    current: first,
    last: urls.libraryPage(library.id, lastPage(library.totalItems)),
    followers: library.followersUrl,
    audience: audienceOf(library.privacy),
  };
}

/**
 * The public index of public libraries (Funkwhale's /federation/index/libraries): the collection with
 * its page links when `page` is null, else that page listing each library's document.
 */
export function libraryIndexDocument(
  index: { total: number; heads: LibraryCollectionHead[]; pageSize: number },
  page: number | null,
  urls: ObjectUrls,
) {
  const id = urls.libraryIndex();
  const last = Math.max(1, Math.ceil(index.total / index.pageSize));
  const pageUrl = (n: number) => `${id}?page=${n}`;
  const links = { totalItems: index.total, first: pageUrl(1), last: pageUrl(last) };
  if (page === null) return { "@context": FUNKWHALE_CONTEXT, type: "Collection", id, ...links };
  return {
    "@context": FUNKWHALE_CONTEXT,
    type: "CollectionPage",
    id: pageUrl(page),
    partOf: id,
    ...links,
    ...(page > 1 ? { prev: pageUrl(page - 1) } : {}),
    ...(page < last ? { next: pageUrl(page + 1) } : {}),
    items: index.heads.map((head) => {
      const { "@context": _context, ...library } = libraryDocument(head, urls);
      return library;
    }),
  };
}

/** Page `page` (1-based, within lastPage) listing `rows` as Audio objects. */
export function libraryPageDocument(
  library: LibraryCollectionHead,
  page: number,
  rows: LibraryAudioRow[],
  urls: ObjectUrls,
  shape: AudioShape = DEFAULT_AUDIO_SHAPE,
) {
  const last = lastPage(library.totalItems);
  return {
    "@context": FUNKWHALE_CONTEXT,
    type: "CollectionPage",
    id: urls.libraryPage(library.id, page),
    partOf: urls.library(library.id),
    attributedTo: library.actorFid,
    name: library.name,
    summary: library.description || null,
    totalItems: library.totalItems,
    first: urls.libraryPage(library.id, 1),
    last: urls.libraryPage(library.id, last),
    ...(page > 1 ? { prev: urls.libraryPage(library.id, page - 1) } : {}),
    ...(page < last ? { next: urls.libraryPage(library.id, page + 1) } : {}),
    items: rows.map((row) => audioObject(library, row, urls, shape)),
  };
}

/** The credits as one display string ("A feat. B"). */
const creditLine = (credits: ArtistCreditRow[]) => credits.map((c) => c.credited_name + c.join_phrase).join("");

/** An Audio fetched at its id. */
export const audioDocument = (library: AudioLibrary, row: LibraryAudioRow, urls: ObjectUrls, shape: AudioShape = DEFAULT_AUDIO_SHAPE) =>
  withContext(audioObject(library, row, urls, shape));
export const trackDocument = (row: TrackRow, urls: ObjectUrls) => withContext(trackObject(row, urls));
export const albumDocument = (row: AlbumRow, urls: ObjectUrls) => withContext(albumObject(row, urls));
export const artistDocument = (row: ArtistRow, urls: ObjectUrls) => withContext(artistObject(row, urls));

/** The media type a follower is told (and sent): Funkwhale's spelling. */
export function mimeType(stored: string | null): string {
  if (!stored) return "application/octet-stream";
  return FUNKWHALE_MIME[stored] ?? stored;
}

/** Whole seconds (rounded) as an xsd:duration, as Funkwhale 2.0 reads it: 228 -> "PT3M48S", 0 -> "PT0S". */
export function isoDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const parts = `${h ? `${h}H` : ""}${m ? `${m}M` : ""}${s || (!h && !m) ? `${s}S` : ""}`;
  return `PT${parts}`;
}

/** An Audio's duration in the form the reader takes (AudioShape); unknown counts as 0. */
export function durationValue(durationMs: number | null, shape: AudioShape): number | string {
  const seconds = Math.round((durationMs ?? 0) / 1000);
  return shape.durationAs === "iso" ? isoDuration(seconds) : seconds;
}

function audioObject(library: AudioLibrary, row: LibraryAudioRow, urls: ObjectUrls, shape: AudioShape) {
  return {
    type: "Audio",
    id: urls.audio(row.upload_id),
    // The raw key tells Funkwhale this is library audio, not channel audio.
    library: urls.library(library.id),
    name: [creditLine(row.track_credits), row.album_title, row.track_title].join(" - "),
    published: iso(row.created_at),
    updated: iso(row.updated_at),
    // Funkwhale 1.4 requires these integers; an unknown value is sent as 0 rather than dropping the item.
    bitrate: row.bitrate ?? 0,
    size: Number(row.size),
    duration: durationValue(row.duration_ms, shape),
    url: [{ type: "Link", href: urls.stream(row.upload_id), mediaType: mimeType(row.mime_type) }],
    to: audienceOf(library.privacy),
    attributedTo: library.actorFid,
    track: trackObject(row, urls),
  };
}

function trackObject(row: TrackRow, urls: ObjectUrls) {
  const album = albumObject(row, urls);
  return {
    type: "Track",
    id: urls.track(row.track_id),
    name: row.track_title,
    published: iso(row.track_created_at),
    musicbrainzId: row.track_mbid,
    position: row.track_number,
    disc: row.disc_number,
    license: null,
    copyright: null,
    attributedTo: null,
    artists: row.track_credits.map((credit) => artistObject(credit, urls)),
    artist_credit: row.track_credits.map((credit, index) => artistCreditObject(credit, index, urls)),
    album,
    image: album.image ?? null,
  };
}

function albumObject(row: AlbumRow, urls: ObjectUrls) {
  const cover = row.cover_hash ? urls.cover(row.cover_hash) : null;
  return {
    type: "Album",
    id: urls.album(row.album_id),
    name: row.album_title,
    published: iso(row.album_created_at),
    musicbrainzId: row.album_mbid,
    released: releasedDate(row.release_date, row.year),
    attributedTo: null,
    artists: row.album_credits.map((credit) => artistObject(credit, urls)),
    artist_credit: row.album_credits.map((credit, index) => artistCreditObject(credit, index, urls)),
    // 1.4 reads `image`; `cover` is the older spelling (fw:cover, a Link), still in its context.
    ...(cover
      ? {
          image: { type: "Image", url: cover, mediaType: "image/jpeg" },
          cover: { type: "Link", href: cover, mediaType: "image/jpeg" },
        }
      : {}),
  };
}

function artistObject(artist: ArtistRow, urls: ObjectUrls) {
  return {
    type: "Artist",
    id: urls.artist(artist.id),
    name: artist.name,
    published: iso(artist.created_at),
    musicbrainzId: artist.mbid,
    attributedTo: null,
    image: null,
  };
}

function artistCreditObject(credit: ArtistCreditRow, index: number, urls: ObjectUrls) {
  return {
    type: "ArtistCredit",
    id: urls.artistCredit(credit.credit_id),
    artist: artistObject(credit, urls),
    credit: credit.credited_name,
    joinphrase: credit.join_phrase,
    index,
    published: iso(credit.created_at),
  };
}

/** Timestamps arrive as Date from columns and as text from json_build_object. */
const iso = (value: Date | string) => new Date(value).toISOString();

/** Funkwhale stores a date: a full one as tagged, else the year's first day (its column is a date). */
function releasedDate(releaseDate: string | null, year: number | null): string | null {
  if (releaseDate && /^\d{4}-\d{2}-\d{2}$/.test(releaseDate)) return releaseDate;
  return year ? `${String(year).padStart(4, "0")}-01-01` : null;
}
