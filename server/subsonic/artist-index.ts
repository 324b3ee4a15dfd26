import type { SubsonicCatalogService } from "../../core/subsonic/subsonic-catalog.service.ts";
import { keepRecent } from "./recently-used.ts";
import type { Elem } from "./response.ts";

// getArtists' index of 5,000 artists took ~150 ms of queries and ~50 ms of grouping and sorting per
// request. Its shared part (artists, album counts, covers, grouped by letter) is the same for every
// viewer of the same libraries, so it is kept per (visible library set, music folder) and rebuilt when
// the catalog generation moves (migrations 0009 and 0011). A privacy change or a deleted library
// changes the visible set, hence the key. starred and userRating are per user: merged into a copy,
// never into the kept index. Each user's whole answer is then kept by answer-cache.ts.

const MAX_ENTRIES = 64;

interface Entry {
  generation: string;
  index: Promise<Elem[]>;
}

const caches = new WeakMap<SubsonicCatalogService, Map<string, Entry>>();

/**
 * getArtists' index for this viewer, with their stars and ratings: `build` makes the shared index (with
 * starred and userRating unset) when none is kept for the current generation, concurrent requests
 * sharing one build.
 */
export async function cachedArtistIndex(
  subsonicCatalog: SubsonicCatalogService, viewerId: string, libraryId: string | undefined, build: () => Promise<Elem[]>,
): Promise<Elem[]> {
  let indexes = caches.get(subsonicCatalog);
  if (!indexes) caches.set(subsonicCatalog, (indexes = new Map()));
  const [{ libraries, generation }, userData] = await Promise.all([
    subsonicCatalog.artistIndexVersion(viewerId),
    subsonicCatalog.artistUserData(viewerId),
  ]);
  const key = `${libraries.join(",")}|${libraryId ?? ""}`;
  let entry = indexes.get(key);
  if (entry?.generation !== generation) {
    entry = keepRecent(indexes, key, { generation, index: build() }, MAX_ENTRIES);
    const built = entry;
    entry.index.catch(() => indexes.get(key) === built && indexes.delete(key)); // a failed build is not kept
  }
  return withUserData(await entry.index, userData);
}

function withUserData(index: Elem[], userData: Awaited<ReturnType<SubsonicCatalogService["artistUserData"]>>): Elem[] {
  if (!userData.size) return index;
  return index.map((group) => ({
    ...group,
    artist: (group.artist as Elem[]).map((artist) => {
      const mine = userData.get(artist.id as string);
      return mine ? { ...artist, starred: mine.starredAt, userRating: mine.rating ?? 0 } : artist;
    }),
  }));
}
