import { Router, type Request, type Response } from "express";
import { NotFound } from "../../core/errors.ts";
import { findAlbum, findArtist, findAudio, findTrack } from "../../core/fediverse/authorized-fetch.ts";
import { audioShapeOfActor } from "../../core/fediverse/domains.ts";
import { ALBUM_PATH, ARTIST_PATH, AUDIO_PATH, objectUrls, TRACK_PATH } from "../../core/fediverse/object-urls.ts";
import type { Database } from "../../core/db/database.ts";
import { albumDocument, artistDocument, audioDocument, trackDocument } from "../../federation/mappers/funkwhale-library.ts";
import { asksForJsonLd } from "./fedify-middleware.ts";
import { pathId } from "./ids.ts";

/**
 * Audio, Track, Album and Artist documents at their ids, in the shapes the collection pages embed (with
 * @context). Each answers who may read a library holding it (public ones: anyone, unsigned; others: their
 * accepted followers, signed), and everyone else as if missing. Only JSON-LD requests are answered here.
 */
export function federationDocumentRoutes(deps: { db: Database; publicUrl: URL; signer: (req: Request) => Promise<string | null> }): Router {
  const router = Router();
  const urls = objectUrls(deps.publicUrl);
  const pool = deps.db.pool;

  /** A document route: the id, who signed, then the document or a 404. */
  const serve = (path: string, what: string, load: (id: string, signer: string | null) => Promise<object | null>) =>
    router.get(path, async (req: Request, res: Response, next) => {
      if (!asksForJsonLd(req)) return next();
      const id = pathId(req.params.id, what);
      const document = await load(id, await deps.signer(req));
      if (!document) throw new NotFound(what);
      res.type("application/activity+json").json(document);
    });

  serve(AUDIO_PATH, "upload", async (id, signer) => {
    const found = await findAudio(pool, id, signer);
    // The duration's form follows what the signer's server runs (Funkwhale 2.0: xsd:duration).
    return found && audioDocument(found.library, found.row, urls, await audioShapeOfActor(pool, signer));
  });
  serve(TRACK_PATH, "track", async (id, signer) => {
    const row = await findTrack(pool, id, signer);
    return row && trackDocument(row, urls);
  });
  serve(ALBUM_PATH, "album", async (id, signer) => {
    const row = await findAlbum(pool, id, signer);
    return row && albumDocument(row, urls);
  });
  serve(ARTIST_PATH, "artist", async (id, signer) => {
    const row = await findArtist(pool, id, signer);
    return row && artistDocument(row, urls);
  });
  return router;
}
