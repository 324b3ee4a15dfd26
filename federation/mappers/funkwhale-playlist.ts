import type { PlaylistCollectionHead, PlaylistTrackRow } from "../../core/fediverse/playlist-collection.queries.ts";
import type { LibraryAudioRow, LibraryCollectionHead } from "../../core/fediverse/library-collection.queries.ts";
import type { AudioShape } from "../../core/fediverse/domains.ts";
import type { ObjectUrls } from "../../core/fediverse/object-urls.ts";
import { FUNKWHALE_CONTEXT, lastPage, libraryDocument, libraryPageDocument } from "./funkwhale-library.ts";

// A local playlist as Funkwhale 2.0 shapes one (../shared/reference/funkwhale-federation.md §5): a
// `Playlist` collection whose `CollectionPage`s list `PlaylistTrack` items, each naming its track by id
// (dereferenceable at /federation/tracks/:id), and a `library` holding the audio of its items. Each item
// also names that audio (`audio`, ours: Funkwhale ignores keys it does not know), so a follower matches an
// item to the copy it scanned even when its catalog merged the track with one of its own.

/** Funkwhale's privacy level strings, as a Playlist's `audience`. */
const AUDIENCE = { public: "everyone", instance: "instance", private: "me" } as const;

export function playlistDocument(playlist: PlaylistCollectionHead, urls: ObjectUrls) {
  const first = urls.playlistPage(playlist.id, 1);
  return {
    "@context": FUNKWHALE_CONTEXT,
    type: "Playlist",
    id: urls.playlist(playlist.id),
    attributedTo: playlist.actorFid,
    name: playlist.name,
    summary: playlist.description || null,
    totalItems: playlist.totalItems,
    first,
    current: first,
    last: urls.playlistPage(playlist.id, lastPage(playlist.totalItems)),
    library: urls.playlistLibrary(playlist.id),
    followers: playlist.followersUrl,
    published: new Date(playlist.createdAt).toISOString(),
    updated: new Date(playlist.updatedAt).toISOString(),
    audience: AUDIENCE[playlist.privacy],
    url: urls.playlistWebPage(playlist.id),
  };
}

export function playlistPageDocument(playlist: PlaylistCollectionHead, page: number, rows: PlaylistTrackRow[], urls: ObjectUrls) {
  const last = lastPage(playlist.totalItems);
  const id = urls.playlist(playlist.id);
  return {
    "@context": FUNKWHALE_CONTEXT,
    type: "CollectionPage",
    id: urls.playlistPage(playlist.id, page),
    partOf: id,
    attributedTo: playlist.actorFid,
    totalItems: playlist.totalItems,
    first: urls.playlistPage(playlist.id, 1),
    last: urls.playlistPage(playlist.id, last),
    ...(page > 1 ? { prev: urls.playlistPage(playlist.id, page - 1) } : {}),
    ...(page < last ? { next: urls.playlistPage(playlist.id, page + 1) } : {}),
    items: rows.map((row) => ({
      type: "PlaylistTrack",
      id: urls.playlistItem(playlist.id, row.item_id),
      track: urls.track(row.track_id),
      audio: urls.audio(row.upload_id),
      index: row.index,
      playlist: id,
      attributedTo: playlist.actorFid,
      published: new Date(row.added_at).toISOString(),
    })),
  };
}

/**
 * The playlist's library is a Library like our libraries' (same pages of Audio), at the playlist's
 * library URL: its Audio objects name it as their `library`, so a follower files them under it.
 */
function asLibrary(playlist: PlaylistCollectionHead, urls: ObjectUrls): { head: LibraryCollectionHead; urls: ObjectUrls } {
  const head: LibraryCollectionHead = {
    id: playlist.id,
    name: playlist.name,
    description: playlist.description,
    privacy: playlist.privacy,
    actorFid: playlist.actorFid,
    followersUrl: playlist.followersUrl,
    ownerFid: playlist.ownerFid,
    totalItems: playlist.totalAudio,
  };
  return { head, urls: { ...urls, library: urls.playlistLibrary, libraryPage: (id, page) => `${urls.playlistLibrary(id)}?page=${page}` } };
}

export function playlistLibraryDocument(playlist: PlaylistCollectionHead, urls: ObjectUrls) {
  const library = asLibrary(playlist, urls);
  return libraryDocument(library.head, library.urls);
}

export function playlistLibraryPageDocument(playlist: PlaylistCollectionHead, page: number, rows: LibraryAudioRow[], urls: ObjectUrls, shape: AudioShape) {
  const library = asLibrary(playlist, urls);
  return libraryPageDocument(library.head, page, rows, library.urls, shape);
}
