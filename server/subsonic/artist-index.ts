import { createHash } from "node:crypto";
import type pg from "pg";
import { artistIndexVersion, artistUserData } from "../../core/subsonic/catalog.queries.ts";
import { render, type Elem, type Format } from "./response.ts";

// getArtists' index of 5,000 artists took ~150 ms of queries and ~50 ms of grouping and sorting per
// request. Its shared part (artists, album counts, covers, grouped by letter) is the same for every
// viewer of the same libraries, so it is kept per (visible library set, music folder) and rebuilt when
// the catalog generation moves: migration 0009 bumps it, in the same transaction, whenever an album is
// shown in or hidden from a library, or an album's artist, cover or year, or an artist's name or
// MusicBrainz id changes. A privacy change or a deleted library changes the visible set, hence the key.
// starred and userRating are per user: merged into a copy, never into the kept index.
// The answer itself (~1 MB for 5,000 artists) is also kept as bytes, per (kept index, format, the
// viewer's artist stars and ratings): serialising it on every request cost more than the queries.
// A different star or rating is a different key, so it shows at once; only the last few are kept.

const MAX_ENTRIES = 64;
const MAX_ANSWERS = 16; // ~1 MB each

interface Entry {
  generation: string;
  index: Promise<Elem[]>;
}

export interface KeptAnswer {
  type: string;
  body: Buffer;
  etag: string;
}

const caches = new WeakMap<pg.Pool, { indexes: Map<string, Entry>; answers: Map<string, KeptAnswer> }>();

/** Map as a bounded cache: a hit moves to the end, the oldest goes past `max`. */
function keep<V>(cache: Map<string, V>, key: string, value: V, max: number): V {
  cache.delete(key);
  cache.set(key, value);
  if (cache.size > max) cache.delete(cache.keys().next().value!);
  return value;
}

/**
 * getArtists' answer for this viewer, rendered: `build` makes the shared index (with starred and
 * userRating unset) when none is kept for the current generation, concurrent requests sharing one
 * build; `answer` wraps the index (with this viewer's stars and ratings) in the response payload.
 */
export async function cachedArtistIndexAnswer(
  pool: pg.Pool,
  viewerId: string,
  libraryId: string | undefined,
  format: Format,
  build: () => Promise<Elem[]>,
  answer: (index: Elem[]) => Elem,
): Promise<KeptAnswer> {
  let cache = caches.get(pool);
  if (!cache) caches.set(pool, (cache = { indexes: new Map(), answers: new Map() }));
  const { indexes, answers } = cache;
  const [{ libraries, generation }, userData] = await Promise.all([artistIndexVersion(pool, viewerId), artistUserData(pool, viewerId)]);
  const key = `${libraries.join(",")}|${libraryId ?? ""}`;
  let entry = indexes.get(key);
  if (entry?.generation !== generation) {
    entry = keep(indexes, key, { generation, index: build() }, MAX_ENTRIES);
    const built = entry;
    entry.index.catch(() => indexes.get(key) === built && indexes.delete(key)); // a failed build is not kept
  }
  const index = await entry.index;
  const mine = createHash("sha1").update(JSON.stringify([...userData].sort(([a], [b]) => (a < b ? -1 : 1)))).digest("base64url");
  const answerKey = `${key}|${generation}|${format.kind === "jsonp" ? `jsonp:${format.callback}` : format.kind}|${mine}`;
  const kept = answers.get(answerKey);
  if (kept) return keep(answers, answerKey, kept, MAX_ANSWERS);
  const { type, text } = render(format, answer(withUserData(index, userData)));
  const body = Buffer.from(text);
  return keep(answers, answerKey, { type, body, etag: `"${createHash("sha1").update(body).digest("base64url")}"` }, MAX_ANSWERS);
}

function withUserData(index: Elem[], userData: Awaited<ReturnType<typeof artistUserData>>): Elem[] {
  if (!userData.size) return index;
  return index.map((group) => ({
    ...group,
    artist: (group.artist as Elem[]).map((artist) => {
      const mine = userData.get(artist.id as string);
      return mine ? { ...artist, starred: mine.starredAt, userRating: mine.rating ?? 0 } : artist;
    }),
  }));
}
