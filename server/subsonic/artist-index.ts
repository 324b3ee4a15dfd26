import type pg from "pg";
import { artistIndexVersion, artistUserData } from "../../core/subsonic/catalog.queries.ts";
import type { Elem } from "./response.ts";

// getArtists' index of 5,000 artists took ~150 ms of queries and ~50 ms of grouping and sorting per
// request. Its shared part (artists, album counts, covers, grouped by letter) is the same for every
// viewer of the same libraries, so it is kept per (visible library set, music folder) and rebuilt when
// the catalog generation moves: migration 0009 bumps it, in the same transaction, whenever an album is
// shown in or hidden from a library, or an album's artist, cover or year, or an artist's name or
// MusicBrainz id changes. A privacy change or a deleted library changes the visible set, hence the key.
// starred and userRating are per user: merged into a copy on every request, never cached.

const MAX_ENTRIES = 64;

interface Entry {
  generation: string;
  index: Promise<Elem[]>;
}

const caches = new WeakMap<pg.Pool, Map<string, Entry>>();

/**
 * The index for this viewer: `build` makes the shared part (with starred and userRating unset) when
 * none is kept for the current generation; concurrent requests share one build.
 */
export async function cachedArtistIndex(pool: pg.Pool, viewerId: string, libraryId: string | undefined, build: () => Promise<Elem[]>): Promise<Elem[]> {
  let cache = caches.get(pool);
  if (!cache) caches.set(pool, (cache = new Map()));
  const [{ libraries, generation }, userData] = await Promise.all([artistIndexVersion(pool, viewerId), artistUserData(pool, viewerId)]);
  const key = `${libraries.join(",")}|${libraryId ?? ""}`;
  let entry = cache.get(key);
  if (entry?.generation !== generation) {
    entry = { generation, index: build() };
    cache.delete(key);
    cache.set(key, entry);
    if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    entry.index.catch(() => cache.get(key) === entry && cache.delete(key)); // a failed build is not kept
  }
  const index = await entry.index;
  if (!userData.size) return index;
  return index.map((group) => ({
    ...group,
    artist: (group.artist as Elem[]).map((artist) => {
      const mine = userData.get(artist.id as string);
      return mine ? { ...artist, starred: mine.starredAt, userRating: mine.rating ?? 0 } : artist;
    }),
  }));
}
