import type { TrackLinks } from "../../core/playlists/track-resolver.ts";

// Core hands out ids (an item's `coverAlbumId`: the album whose cover stands for it); the REST API's
// URLs for them are written here, and only here.

export const albumCoverUrl = (albumId: string) => `/api/v1/albums/${albumId}/cover`;
export const trackStreamUrl = (trackId: string) => `/api/v1/tracks/${trackId}/stream`;

const TRACK_STREAM_PATH = /^\/api\/v1\/tracks\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/stream$/i;

/** Our track URLs on this server's public origin: what exported playlists point at, and read back. */
export function trackLinks(origin: URL): TrackLinks {
  return {
    urlOf: (trackId) => new URL(trackStreamUrl(trackId), origin).href,
    trackIdOf: (url) => (url.origin === origin.origin ? TRACK_STREAM_PATH.exec(url.pathname)?.[1]?.toLowerCase() : undefined),
  };
}

type WithCover = { coverAlbumId: string | null };
type WithCoverUrl<T extends WithCover, Extra> = Omit<T, "coverAlbumId"> & { coverUrl: string | null } & Extra;

/** The item with `coverUrl` (and `extra`) where core put `coverAlbumId`: the answer's keys keep their order. */
function withCoverUrl<T extends WithCover, Extra extends object = object>(item: T, extra?: Extra): WithCoverUrl<T, Extra> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    if (key !== "coverAlbumId") out[key] = value;
    else Object.assign(out, { coverUrl: value ? albumCoverUrl(value as string) : null }, extra);
  }
  return out as WithCoverUrl<T, Extra>;
}

/** An artist or album as REST shows it; an album's `tracks` and an artist's `albums`, when loaded, too. */
export function albumOrArtistDto<T extends WithCover & { tracks?: (WithCover & { id: string })[]; albums?: WithCover[] }>(item: T) {
  return withCoverUrl({
    ...item,
    ...(item.tracks ? { tracks: item.tracks.map(trackDto) } : {}),
    ...(item.albums ? { albums: item.albums.map((a) => withCoverUrl(a)) } : {}),
  });
}

/** A track as REST shows it: its cover and stream URLs. */
export function trackDto<T extends WithCover & { id: string }>(track: T) {
  return withCoverUrl(track, { streamUrl: trackStreamUrl(track.id) });
}

/** A search answer's album and track hits with their cover URLs. */
export function searchDto<T extends { albums: WithCover[]; tracks: WithCover[] }>(results: T) {
  return { ...results, albums: results.albums.map((a) => withCoverUrl(a)), tracks: results.tracks.map((t) => withCoverUrl(t)) };
}
