import type pg from "pg";
import type { UploadRow } from "../library/uploads.service.ts";
import {
  albumArtistIds, albumCoverHash, artistIndexVersion, artistUserData, bestUpload, catalogLastModified, visibleLibraries,
} from "./catalog.queries.ts";
import { similarArtistIds, topTrackIds } from "./info.queries.ts";
import { lyricsByName, songLyrics, type SongLyrics } from "./lyrics.queries.ts";

/**
 * What the Subsonic API reads beyond core/catalog (music folders, indexes, covers, the copy a listener
 * hears, top songs, lyrics), always limited to what the viewer may see. Built once; handlers get it.
 */
export class SubsonicCatalogService {
  readonly #pool: pg.Pool;

  constructor(deps: { pool: pg.Pool }) {
    this.#pool = deps.pool;
  }

  /** The viewer's libraries as music folders (with their int ids), by name. */
  musicFolders(viewerId: string): Promise<{ id: string; name: string; folderId: number }[]> {
    return visibleLibraries(this.#pool, viewerId);
  }

  /** What getArtists' shared index depends on: the libraries the viewer sees and the catalog generation. */
  artistIndexVersion(viewerId: string): Promise<{ libraries: string[]; generation: string }> {
    return artistIndexVersion(this.#pool, viewerId);
  }

  /** The artists the viewer starred or rated. */
  artistUserData(viewerId: string): ReturnType<typeof artistUserData> {
    return artistUserData(this.#pool, viewerId);
  }

  /** Album artists with a visible album (optionally in one library), by name. */
  albumArtistIds(viewerId: string, libraryId?: string): Promise<string[]> {
    return albumArtistIds(this.#pool, viewerId, libraryId);
  }

  /** getIndexes' lastModified (ms since the epoch). */
  lastModified(viewerId: string, libraryId?: string): Promise<number> {
    return catalogLastModified(this.#pool, viewerId, libraryId);
  }

  /** A visible album's cover hash: undefined when the album is unknown or hidden, null without art. */
  albumCoverHash(viewerId: string, albumId: string): Promise<string | null | undefined> {
    return albumCoverHash(this.#pool, albumId, viewerId);
  }

  /** The copy of a track the viewer hears, or undefined. */
  bestUpload(viewerId: string, trackId: string): Promise<UploadRow | undefined> {
    return bestUpload(this.#pool, trackId, viewerId);
  }

  topTrackIds(viewerId: string, artistName: string, count: number): Promise<string[]> {
    return topTrackIds(this.#pool, viewerId, artistName, count);
  }

  similarArtistIds(viewerId: string, artistId: string, count: number): Promise<string[]> {
    return similarArtistIds(this.#pool, viewerId, artistId, count);
  }

  songLyrics(viewerId: string, trackId: string): Promise<SongLyrics | undefined> {
    return songLyrics(this.#pool, viewerId, trackId);
  }

  lyricsByName(viewerId: string, artist: string, title: string): Promise<{ lyrics: string; synced: boolean } | undefined> {
    return lyricsByName(this.#pool, viewerId, artist, title);
  }
}
