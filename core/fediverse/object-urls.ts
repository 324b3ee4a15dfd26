/**
 * Where the federated documents of local catalog objects live (ids ending in the row's UUID, as
 * Funkwhale 2.0 expects of a library id). server/ serves the library collections at these paths;
 * the others are stable ids for now, to be served as documents when remote scans need them.
 */
export const LIBRARY_COLLECTION_PATH = "/federation/libraries/:id";

export interface ObjectUrls {
  library(id: string): string;
  libraryPage(id: string, page: number): string;
  audio(uploadId: string): string;
  track(id: string): string;
  album(id: string): string;
  artist(id: string): string;
  artistCredit(id: string): string;
  /** The upload's bytes: the API stream, which answers anonymous requests for public libraries. */
  stream(uploadId: string): string;
  cover(hash: string): string;
}

export function objectUrls(origin: URL): ObjectUrls {
  const at = (path: string) => new URL(path, origin).href;
  return {
    library: (id) => at(LIBRARY_COLLECTION_PATH.replace(":id", id)),
    libraryPage: (id, page) => at(`${LIBRARY_COLLECTION_PATH.replace(":id", id)}?page=${page}`),
    audio: (id) => at(`/federation/uploads/${id}`),
    track: (id) => at(`/federation/tracks/${id}`),
    album: (id) => at(`/federation/albums/${id}`),
    artist: (id) => at(`/federation/artists/${id}`),
    artistCredit: (id) => at(`/federation/artist-credits/${id}`),
    stream: (id) => at(`/api/v1/uploads/${id}/stream`),
    cover: (hash) => at(`/api/v1/covers/${hash}/600.jpg`),
  };
}
