import { Router, type Request } from "express";
import { NotFound, Invalid } from "../../core/errors.ts";
import { mayReadLibrary } from "../../core/fediverse/authorized-fetch.ts";
import { audioShapeOfActor } from "../../core/fediverse/domains.ts";
import {
  findLibraryCollection,
  LIBRARY_INDEX_PAGE_SIZE,
  libraryAudioPage,
  publicLibraryIndex,
} from "../../core/fediverse/library-collection.queries.ts";
import { LIBRARY_COLLECTION_PATH, LIBRARY_INDEX_PATH, objectUrls } from "../../core/fediverse/object-urls.ts";
import type { Database } from "../../core/db/database.ts";
import { lastPage, libraryDocument, libraryIndexDocument, libraryPageDocument } from "../../federation/mappers/funkwhale-library.ts";
import { asksForJsonLd } from "./fedify-middleware.ts";
import { pathId } from "./ids.ts";

/**
 * A library's Funkwhale-shaped `Library` collection and its `?page=N` pages, as plain Express routes:
 * Fedify's collection dispatchers page with `?cursor=` and type their pages OrderedCollectionPage, and
 * Funkwhale reads only `CollectionPage` with `items` at `?page=N`. Only JSON-LD requests are answered
 * here; a browser's request goes on to the web UI.
 *
 * The collection (name, counts, page links; `audience: ""` unless public) answers anyone holding its
 * URL, so that a follow can be asked for. Its pages answer who may read the library (authorized fetch:
 * mayReadLibrary), and anyone else exactly as a missing library. The index of public libraries is
 * here too, public like them.
 */
export function libraryCollectionRoutes(deps: { db: Database; publicUrl: URL; signer: (req: Request) => Promise<string | null> }): Router {
  const router = Router();
  const urls = objectUrls(deps.publicUrl);

  router.get(LIBRARY_COLLECTION_PATH, async (req, res, next) => {
    if (!asksForJsonLd(req)) return next();
    const id = pathId(req.params.id, "library");
    const signer = await deps.signer(req);
    const library = await findLibraryCollection(deps.db.pool, id);
    if (!library) throw new NotFound("library");
    const pageParam = req.query.page;
    if (pageParam === undefined) {
      res.type("application/activity+json").json(libraryDocument(library, urls));
      return;
    }
    if (!(await mayReadLibrary(deps.db.pool, library.id, signer))) throw new NotFound("library");
    if (typeof pageParam !== "string" || !/^[1-9]\d{0,8}$/.test(pageParam)) throw new Invalid("page must be a positive integer");
    const page = Number(pageParam);
    if (page > lastPage(library.totalItems)) throw new NotFound("page");
    const rows = await libraryAudioPage(deps.db.pool, library.id, page);
    const shape = await audioShapeOfActor(deps.db.pool, signer);
    res.type("application/activity+json").json(libraryPageDocument(library, page, rows, urls, shape));
  });

  // The index of public libraries, for anyone (what another server's instance follows discover).
  router.get(LIBRARY_INDEX_PATH, async (req, res) => {
    const pageParam = req.query.page;
    if (pageParam !== undefined && (typeof pageParam !== "string" || !/^[1-9]\d{0,8}$/.test(pageParam))) throw new Invalid("page must be a positive integer");
    const page = pageParam === undefined ? null : Number(pageParam);
    const index = await publicLibraryIndex(deps.db.pool, page ?? 1);
    if (page !== null && page > 1 && index.heads.length === 0) throw new NotFound("page");
    res.type("application/activity+json").json(libraryIndexDocument({ ...index, pageSize: LIBRARY_INDEX_PAGE_SIZE }, page, urls));
  });
  return router;
}
