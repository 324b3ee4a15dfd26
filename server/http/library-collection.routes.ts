import { Router } from "express";
import { NotFound, Invalid } from "../../core/errors.ts";
import { findPublicLibraryCollection, libraryAudioPage } from "../../core/fediverse/library-collection.queries.ts";
import { LIBRARY_COLLECTION_PATH, objectUrls } from "../../core/fediverse/object-urls.ts";
import type { Database } from "../../core/db/database.ts";
import { lastPage, libraryDocument, libraryPageDocument } from "../../federation/mappers/funkwhale-library.ts";
import { asksForJsonLd } from "./fedify-middleware.ts";
import { pathId } from "./ids.ts";

/**
 * A library's Funkwhale-shaped `Library` collection and its `?page=N` pages, as plain Express routes:
 * Fedify's collection dispatchers page with `?cursor=` and type their pages OrderedCollectionPage, and
 * Funkwhale reads only `CollectionPage` with `items` at `?page=N`. Only JSON-LD requests are answered
 * here; a browser's request goes on to the web UI.
 *
 * Public libraries only, for now: private and instance ones answer 404, as if missing, to everyone.
 * Their pages will answer signed requests from accepted followers (authorized fetch) once follows exist.
 */
export function libraryCollectionRoutes(deps: { db: Database; publicUrl: URL }): Router {
  const router = Router();
  const urls = objectUrls(deps.publicUrl);

  router.get(LIBRARY_COLLECTION_PATH, async (req, res, next) => {
    if (!asksForJsonLd(req)) return next();
    const library = await findPublicLibraryCollection(deps.db.pool, pathId(req.params.id, "library"));
    if (!library) throw new NotFound("library");
    res.type("application/activity+json");
    const pageParam = req.query.page;
    if (pageParam === undefined) {
      res.json(libraryDocument(library, urls));
      return;
    }
    if (typeof pageParam !== "string" || !/^[1-9]\d{0,8}$/.test(pageParam)) throw new Invalid("page must be a positive integer");
    const page = Number(pageParam);
    if (page > lastPage(library.totalItems)) throw new NotFound("page");
    res.json(libraryPageDocument(library, page, await libraryAudioPage(deps.db.pool, library.id, page), urls));
  });
  return router;
}
