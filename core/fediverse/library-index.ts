import { idOf, type JsonObject } from "./remote-documents.ts";

/**
 * Walks a server's public index of public libraries (NodeInfo metadata.endpoints.libraries: Funkwhale's
 * /federation/index/libraries, and ours), page by page through `first` and `next` (embedded or linked,
 * links only on `domain` and each read once), handing `visit` each item (an embedded Library, or its id)
 * until it answers false or `maxPages` pages were read.
 */
export async function walkLibraryIndex(
  indexUrl: string,
  domain: string,
  read: (url: string) => Promise<JsonObject>,
  visit: (item: unknown) => boolean,
  maxPages: number,
): Promise<void> {
  const onDomain = (id: string | null): id is string => id !== null && new URL(id).host === domain;
  const take = (page: JsonObject): boolean => {
    for (const item of [page.items, page.orderedItems].flatMap((list) => (Array.isArray(list) ? list : []))) {
      if (!visit(item)) return false;
    }
    return true;
  };
  const root = await read(indexUrl);
  if (!take(root)) return;
  let next: unknown = root.first ?? null;
  const seen = new Set<string>();
  for (let pages = 0; next && pages < maxPages; pages += 1) {
    const embedded = typeof next === "object" && next !== null && !Array.isArray(next) ? (next as JsonObject) : null;
    const url = embedded ? null : idOf(next);
    if (!embedded && (!onDomain(url) || seen.has(url))) return;
    if (url) seen.add(url);
    const page = embedded ?? (await read(url!));
    if (!take(page)) return;
    next = page.next ?? null;
  }
}
