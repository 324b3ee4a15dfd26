import type pg from "pg";
import {
  albumArtistIds, artistIndexVersion, artistUserData, catalogLastModified, visibleLibraries,
} from "./catalog.queries.ts";
import { similarArtistIds, topTrackIds } from "./info.queries.ts";
import { lyricsByName, songLyrics, type SongLyrics } from "./lyrics.queries.ts";

/**
 * What the Subsonic API reads beyond core/catalog (music folders, indexes, top songs, lyrics), always
 * limited to what the viewer may see (core/catalog/catalog-read.ts). Built once; handlers get it.
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
