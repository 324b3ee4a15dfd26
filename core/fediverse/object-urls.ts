/**
 * Where the federated documents of local catalog objects live (ids ending in the row's UUID, as
 * Funkwhale 2.0 expects of a library id). server/ serves each at these paths (plain Express routes:
 * authorized fetch verifies draft-cavage signatures with the query, which Fedify's verifier does not).
 */
export const LIBRARY_COLLECTION_PATH = "/federation/libraries/:id";
/** The public index of our public libraries (Funkwhale's path), named by NodeInfo metadata.endpoints.libraries. */
export const LIBRARY_INDEX_PATH = "/federation/index/libraries";
export const AUDIO_PATH = "/federation/uploads/:id";
export const TRACK_PATH = "/federation/tracks/:id";
export const ALBUM_PATH = "/federation/albums/:id";
export const ARTIST_PATH = "/federation/artists/:id";
/** A local playlist's Funkwhale 2.0 `Playlist` collection (pages of PlaylistTrack items). */
export const PLAYLIST_COLLECTION_PATH = "/federation/playlists/:id";
/** The Library collection of the audio of a playlist's items (the Playlist's `library`), for its followers. */
export const PLAYLIST_LIBRARY_PATH = "/federation/playlists/:id/library";
/** An upload's bytes for other servers (signed by an accepted follower, or anyone for public libraries). */
export const MEDIA_PATH = "/federation/media/:id";
/** An album cover for other servers, by content hash and file (`600.jpg`), readable like the album. */
export const COVER_PATH = "/federation/covers/:hash/:file";

export interface ObjectUrls {
  library(id: string): string;
  libraryIndex(): string;
  libraryPage(id: string, page: number): string;
  audio(uploadId: string): string;
  track(id: string): string;
  album(id: string): string;
  artist(id: string): string;
  artistCredit(id: string): string;
  /** The upload's bytes, as followers fetch them (Audio url). */
  stream(uploadId: string): string;
  cover(hash: string): string;
  /** The library's page in the web UI (its HTML links back to the collection). */
  libraryWebPage(id: string): string;
  playlist(id: string): string;
  playlistPage(id: string, page: number): string;
  playlistItem(playlistId: string, itemId: string): string;
  playlistLibrary(id: string): string;
  /** Pages of the web UI that microblog posts and profiles link to. */
  playlistWebPage(id: string): string;
  albumWebPage(id: string): string;
}

export function objectUrls(origin: URL): ObjectUrls {
  const at = (template: string, id: string) => new URL(template.replace(":id", id), origin).href;
  return {
    library: (id) => at(LIBRARY_COLLECTION_PATH, id),
    libraryIndex: () => new URL(LIBRARY_INDEX_PATH, origin).href,
    libraryPage: (id, page) => `${at(LIBRARY_COLLECTION_PATH, id)}?page=${page}`,
    audio: (id) => at(AUDIO_PATH, id),
    track: (id) => at(TRACK_PATH, id),
    album: (id) => at(ALBUM_PATH, id),
    artist: (id) => at(ARTIST_PATH, id),
    artistCredit: (id) => at("/federation/artist-credits/:id", id),
    stream: (id) => at(MEDIA_PATH, id),
    cover: (hash) => new URL(COVER_PATH.replace(":hash", hash).replace(":file", "600.jpg"), origin).href,
    libraryWebPage: (id) => at("/libraries/:id", id),
    playlist: (id) => at(PLAYLIST_COLLECTION_PATH, id),
    playlistPage: (id, page) => `${at(PLAYLIST_COLLECTION_PATH, id)}?page=${page}`,
    playlistItem: (playlistId, itemId) => `${at(PLAYLIST_COLLECTION_PATH, playlistId)}/items/${itemId}`,
    playlistLibrary: (id) => at(PLAYLIST_LIBRARY_PATH, id),
    playlistWebPage: (id) => at("/playlists/:id", id),
    albumWebPage: (id) => at("/albums/:id", id),
  };
}
