import { Router, type Request } from "express";
import { Invalid, NotFound } from "../../core/errors.ts";
import { audioShapeOfActor } from "../../core/fediverse/domains.ts";
import { PLAYLIST_COLLECTION_PATH, PLAYLIST_LIBRARY_PATH, objectUrls } from "../../core/fediverse/object-urls.ts";
import {
  findPlaylistCollection,
  mayReadPlaylist,
  playlistAudioPage,
  playlistTrackPage,
  type PlaylistCollectionHead,
} from "../../core/fediverse/playlist-collection.queries.ts";
import type { Database } from "../../core/db/database.ts";
import { lastPage } from "../../federation/mappers/funkwhale-library.ts";
import {
  playlistDocument,
  playlistLibraryDocument,
  playlistLibraryPageDocument,
  playlistPageDocument,
} from "../../federation/mappers/funkwhale-playlist.ts";
import { asksForJsonLd } from "./fedify-middleware.ts";
import { pathId } from "./ids.ts";

/**
 * A local playlist's `Playlist` collection and its library (the audio of its items), each with `?page=N`
 * pages, as plain Express routes (like a library's: Funkwhale pages with `?page=N`). A private playlist,
 * or a remote one, answers as missing. The heads answer anyone holding the URL, so a follow can be asked
 * for; the pages only who may read the playlist (mayReadPlaylist), anyone else as missing.
 */
export function playlistCollectionRoutes(deps: { db: Database; publicUrl: URL; signer: (req: Request) => Promise<string | null> }): Router {
  const router = Router();
  const urls = objectUrls(deps.publicUrl);

  /** The playlist and the page asked for (null: the head), once the signer may read that page. */
  async function read(req: Request): Promise<{ playlist: PlaylistCollectionHead; page: number | null; signer: string | null }> {
    const playlist = await findPlaylistCollection(deps.db.pool, pathId(req.params.id, "playlist"));
    if (!playlist) throw new NotFound("playlist");
    const pageParam = req.query.page;
    if (pageParam === undefined) return { playlist, page: null, signer: null };
    const signer = await deps.signer(req);
    if (!(await mayReadPlaylist(deps.db.pool, playlist.id, signer))) throw new NotFound("playlist");
    if (typeof pageParam !== "string" || !/^[1-9]\d{0,8}$/.test(pageParam)) throw new Invalid("page must be a positive integer");
    return { playlist, page: Number(pageParam), signer };
  }

  router.get(PLAYLIST_COLLECTION_PATH, async (req, res, next) => {
    if (!asksForJsonLd(req)) return next();
    const { playlist, page } = await read(req);
    if (page === null) return void res.type("application/activity+json").json(playlistDocument(playlist, urls));
    if (page > lastPage(playlist.totalItems)) throw new NotFound("page");
    const rows = await playlistTrackPage(deps.db.pool, playlist.id, page);
    res.type("application/activity+json").json(playlistPageDocument(playlist, page, rows, urls));
  });

  router.get(PLAYLIST_LIBRARY_PATH, async (req, res, next) => {
    if (!asksForJsonLd(req)) return next();
    const { playlist, page, signer } = await read(req);
    if (page === null) return void res.type("application/activity+json").json(playlistLibraryDocument(playlist, urls));
    if (page > lastPage(playlist.totalAudio)) throw new NotFound("page");
    const rows = await playlistAudioPage(deps.db.pool, playlist.id, page);
    const shape = await audioShapeOfActor(deps.db.pool, signer);
    res.type("application/activity+json").json(playlistLibraryPageDocument(playlist, page, rows, urls, shape));
  });
  return router;
}
