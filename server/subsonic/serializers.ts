import type { loadAlbums, loadArtists, loadTracks } from "../../core/catalog/catalog-items.ts";
import { textElem, type Elem } from "./response.ts";

// One serializer per Subsonic response type. Types matter to clients: ids are strings, counts and
// durations integers, booleans real booleans, OpenSubsonic lists always present (possibly empty).

type Track = Awaited<ReturnType<typeof loadTracks>>[number];
type Album = Awaited<ReturnType<typeof loadAlbums>>[number];
type Artist = Awaited<ReturnType<typeof loadArtists>>[number];

const seconds = (ms: number | null) => (ms === null ? 0 : Math.round(ms / 1000));
const int = (value: number | null | undefined) => (value === null || value === undefined ? undefined : Math.round(value));
const orUndefined = <T>(value: T | null) => value ?? undefined;
const ref = (a: { id: string; name: string }): Elem => ({ id: a.id, name: a.name });
function replayGain(file: Track["file"]): Elem {
  // Always present on songs (OpenSubsonic); the keys we do not know are left out.
  const gain = file?.replayGain;
  return {
    trackGain: orUndefined(gain?.trackGain ?? null),
    trackPeak: orUndefined(gain?.trackPeak ?? null),
    albumGain: orUndefined(gain?.albumGain ?? null),
    albumPeak: orUndefined(gain?.albumPeak ?? null),
  };
}

/** A song; `track` loaded with its file details (loadTracks' `files`), or size, format and the like are missing. */
export function songElem(track: Track): Elem {
  const file = track.file;
  const albumArtists = track.albumArtist ? [track.albumArtist] : [];
  return {
    id: track.id,
    parent: track.album.id,
    isDir: false,
    title: track.title,
    album: track.album.title,
    artist: track.artistCredit,
    track: int(track.trackNumber),
    year: int(track.year),
    genre: track.genres[0],
    coverArt: track.coverAlbumId ?? undefined, // our coverArt ids are album ids
    size: file?.size,
    contentType: orUndefined(file?.mimeType ?? null),
    suffix: file?.suffix || undefined,
    duration: seconds(track.durationMs),
    bitRate: file?.bitrate ? Math.round(file.bitrate / 1000) : undefined,
    isVideo: false,
    userRating: orUndefined(track.rating),
    playCount: track.playCount,
    discNumber: int(track.discNumber),
    created: orUndefined(track.createdAt),
    starred: orUndefined(track.starredAt),
    albumId: track.album.id,
    artistId: track.artists[0]?.id,
    type: "music",
    mediaType: "song",
    played: orUndefined(track.lastPlayedAt),
    musicBrainzId: track.musicBrainzId ?? "",
    genres: track.genres.map((name) => ({ name })),
    artists: track.artists.map(ref),
    displayArtist: track.artistCredit,
    albumArtists: albumArtists.map(ref),
    displayAlbumArtist: albumArtists.map((a) => a.name).join(", "),
    replayGain: replayGain(file),
    bitDepth: file?.bitDepth ?? 0,
    samplingRate: file?.sampleRate ?? 0,
    channelCount: file?.channels ?? 0,
  };
}

/** An album; `album` loaded with its details (loadAlbums' `details`), or its genres and credits are missing. */
export function albumElem(album: Album): Elem {
  const artists = album.artists?.length ? album.artists : [album.artist];
  return {
    id: album.id,
    name: album.title,
    artist: album.artistCredit,
    artistId: album.artist.id,
    coverArt: album.coverAlbumId ?? undefined,
    songCount: album.trackCount,
    duration: seconds(album.durationMs),
    playCount: album.playCount,
    created: album.createdAt ?? new Date(0).toISOString(),
    starred: orUndefined(album.starredAt),
    year: int(album.year),
    genre: album.genres?.[0],
    played: orUndefined(album.lastPlayedAt),
    userRating: album.rating ?? 0,
    musicBrainzId: album.musicBrainzId ?? "",
    genres: (album.genres ?? []).map((name) => ({ name })),
    artists: artists.map(ref),
    displayArtist: album.artistCredit,
    isCompilation: album.compilation,
    mediaType: "album",
  };
}

export function artistElem(artist: Artist): Elem {
  return {
    id: artist.id,
    name: artist.name,
    coverArt: artist.coverAlbumId ?? undefined,
    albumCount: artist.albumCount,
    starred: orUndefined(artist.starredAt),
    userRating: artist.rating ?? 0,
    musicBrainzId: artist.musicBrainzId ?? "",
    mediaType: "artist",
  };
}

export const IGNORED_ARTICLES = "The El La Los Las Le Les";

/** localeCompare's order, without building a collator per comparison (5,000 artists: ~60,000 of them). */
const collator = new Intl.Collator();

/** getArtists' index: by first letter of the name without a leading article; anything else under "#". */
export function artistIndex(artists: Elem[]): Elem[] {
  const articles = IGNORED_ARTICLES.split(" ").map((a) => `${a.toLowerCase()} `);
  const groups = new Map<string, { key: string; artist: Elem }[]>();
  for (const artist of artists) {
    let name = String(artist.name).toLowerCase();
    const article = articles.find((a) => name.startsWith(a) && name.length > a.length);
    if (article) name = name.slice(article.length);
    const key = name.normalize("NFD").replace(/\p{M}/gu, "");
    const letter = key.charAt(0).toUpperCase();
    const group = /^[A-Z]$/.test(letter) ? letter : "#";
    const members = groups.get(group);
    if (members) members.push({ key, artist });
    else groups.set(group, [{ key, artist }]);
  }
  // Sorted without the article, as clients that read ignoredArticles would sort them.
  return [...groups.keys()].sort().map((name) => ({
    name,
    artist: groups.get(name)!.sort((a, b) => collator.compare(a.key, b.key)).map((e) => e.artist),
  }));
}

// ---- Folder browsing (getIndexes / getMusicDirectory): our artists and albums as directories ----

// The folder model's types (Artist, Child) carry userRating 1-5 or nothing: never the 0 of ID3's "unrated".

/** An artist in getIndexes, getStarred and search2 (the non-ID3 Artist type). */
export function folderArtistElem(artist: Elem): Elem {
  return { id: artist.id, name: artist.name, coverArt: artist.coverArt, starred: artist.starred, userRating: artist.userRating || undefined };
}

/** An album as a directory entry (Child with isDir) under `parentId`. */
export function albumChildElem(album: Album, parentId: string): Elem {
  return { ...albumElem(album), parent: parentId, isDir: true, title: album.title, album: album.title, userRating: orUndefined(album.rating) };
}

export function directoryElem(dir: { id: string; parent?: string; name: string; starred?: string; userRating?: number | null; playCount?: number }, child: Elem[]): Elem {
  return { id: dir.id, parent: dir.parent, name: dir.name, starred: dir.starred, userRating: orUndefined(dir.userRating ?? null), playCount: dir.playCount, child };
}

// ---- Listening -----------------------------------------------------------------------------

export function nowPlayingEntryElem(song: Elem, entry: { username: string; minutesAgo: number; playerId: number; playerName: string }): Elem {
  return { ...song, username: entry.username, minutesAgo: entry.minutesAgo, playerId: entry.playerId, playerName: entry.playerName };
}

export function playQueueElem(queue: { currentTrackId: string | null; positionMs: number; changedAt: string; changedBy: string }, username: string, entry: Elem[]): Elem {
  return {
    current: orUndefined(queue.currentTrackId),
    position: queue.positionMs,
    username,
    changed: queue.changedAt,
    changedBy: queue.changedBy,
    entry,
  };
}

// ---- Infos (local data only) ------------------------------------------------------------------

export interface ImageUrls { small: string; medium: string; large: string }

const imageElems = (images: ImageUrls | undefined): Elem =>
  images ? { smallImageUrl: textElem(images.small), mediumImageUrl: textElem(images.medium), largeImageUrl: textElem(images.large) } : {};

/** artistInfo(2): no biography (we fetch nothing from the internet); similar artists from shared genres. */
export function artistInfoElem(musicBrainzId: string | null, images: ImageUrls | undefined, similarArtist: Elem[]): Elem {
  return { musicBrainzId: musicBrainzId ? textElem(musicBrainzId) : undefined, ...imageElems(images), similarArtist };
}

export function albumInfoElem(musicBrainzId: string | null, images: ImageUrls | undefined): Elem {
  return { musicBrainzId: musicBrainzId ? textElem(musicBrainzId) : undefined, ...imageElems(images) };
}
