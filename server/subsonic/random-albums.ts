import { getLogger } from "../../config/logging.ts";
import type { CatalogService } from "../../core/catalog/catalog.service.ts";
import type { SubsonicUser } from "../../core/subsonic/credentials.service.ts";
import { keepRecent } from "./recently-used.ts";
import type { Elem } from "./response.ts";
import { albumElem } from "./serializers.ts";

// Random album lists are the home screen of many clients and cannot be kept as answers: each call
// draws anew. What they are drawn from can be kept: the ids of the albums this user sees (one query),
// and each album's element once made, per user and answer version (the catalog generation and the
// user's own stars, ratings and plays, read with the credentials: migration 0011), so a kept element
// is never stale. A warm list is then drawn without a query, and evenly from the whole catalog.

/** Libraries with more albums than this are drawn from with a query each time (browseSampleIds). */
const MAX_ALBUMS = 20_000;
/** Users (and music folders) kept at once, least recently drawn from first out. */
const MAX_ENTRIES = 16;
/** Albums made at once ahead of the draws (fillAll). */
const FILL_BATCH = 500;

interface Entry {
  key: string;
  version: string;
  /** Every visible album's id, or null when there are too many to keep. */
  ids: Promise<string[] | null>;
  elems: Map<string, Elem>;
  /** Where in `ids` making ahead goes on, and whether it is running (one at a time). */
  fillFrom: number;
  filling: boolean;
}

const log = getLogger(["polyphony", "subsonic"]);
const caches = new WeakMap<CatalogService, Map<string, Entry>>();

/** Whether version a ("catalog.user") is older than b: a late request must not replace newer data. */
function older(a: string, b: string): boolean {
  const [ac, au] = a.split(".").map(BigInt) as [bigint, bigint];
  const [bc, bu] = b.split(".").map(BigInt) as [bigint, bigint];
  return ac < bc || (ac === bc && au < bu);
}

function entryFor(catalog: CatalogService, user: SubsonicUser, library: string | undefined): Entry {
  let entries = caches.get(catalog);
  if (!entries) caches.set(catalog, (entries = new Map()));
  const key = `${user.id}|${library ?? ""}`;
  let entry = entries.get(key);
  if (!entry || older(entry.version, user.answerVersion)) {
    const ids = catalog.pageIds("albums", user.id, { sort: "date_added", limit: MAX_ALBUMS + 1, offset: 0, library })
      .then((all) => (all.length > MAX_ALBUMS ? null : all));
    entry = { key, version: user.answerVersion, ids, elems: new Map(), fillFrom: 0, filling: false };
    const made = entry;
    ids.catch(() => entries.get(key) === made && entries.delete(key)); // a failed read is not kept
  }
  return keepRecent(entries, key, entry, MAX_ENTRIES);
}

/** `size` distinct ids drawn evenly from `ids`. */
function draw(ids: string[], size: number): string[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(size, ids.length)) picked.add(Math.floor(Math.random() * ids.length));
  return [...picked].map((i) => ids[i]!);
}

async function make(catalog: CatalogService, viewerId: string, elems: Map<string, Elem>, ids: string[]): Promise<void> {
  for (const album of await catalog.albums(viewerId, ids, { details: true })) elems.set(album.id, albumElem(album));
}

/**
 * Makes every album's element in the background, a batch at a time, while the entry is in use and
 * current: a new version is then warm in well under a second at 10,000 albums, where draws alone
 * would take hundreds of calls to meet the last few albums by chance.
 */
async function fillAll(catalog: CatalogService, viewerId: string, entry: Entry, all: string[]): Promise<void> {
  entry.filling = true;
  try {
    while (entry.fillFrom < all.length && caches.get(catalog)?.get(entry.key) === entry) {
      const batch = all.slice(entry.fillFrom, entry.fillFrom + FILL_BATCH).filter((id) => !entry.elems.has(id));
      entry.fillFrom += FILL_BATCH;
      if (batch.length) await make(catalog, viewerId, entry.elems, batch);
    }
  } catch (error) {
    log.warning("Could not make random album list entries ahead: {error}", { error });
  } finally {
    entry.filling = false;
  }
}

/** `size` albums at random among those `user` sees (in one library, when given), as getAlbumList2 elements. */
export async function randomAlbums(catalog: CatalogService, user: SubsonicUser, library: string | undefined, size: number): Promise<Elem[]> {
  const entry = entryFor(catalog, user, library);
  const all = await entry.ids;
  // Too many to keep: a sample of neighbours in id order, drawn by a query, and nothing kept.
  const elems = all ? entry.elems : new Map<string, Elem>();
  const ids = all ? draw(all, size) : await catalog.sampleIds("albums", user.id, { library }, size);
  const missing = ids.filter((id) => !elems.has(id));
  if (missing.length) await make(catalog, user.id, elems, missing);
  if (all && !entry.filling && entry.fillFrom < all.length) void fillAll(catalog, user.id, entry, all);
  // An album deleted while this request ran has no element: left out.
  return ids.map((id) => elems.get(id)).filter((elem) => elem !== undefined);
}
