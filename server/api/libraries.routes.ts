import { Router } from "express";
import { z } from "zod";
import { Invalid, TooLarge } from "../../core/errors.ts";
import { objectUrls } from "../../core/fediverse/object-urls.ts";
import { type Library, PRIVACY_LEVELS } from "../../core/library/library.entity.ts";
import type { Rejection, UploadRow } from "../../core/library/uploads.service.ts";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import { forEachFile } from "../http/multipart.ts";
import type { ServerDeps } from "../deps.ts";
import type { Operation } from "../http/openapi.ts";
import { toLibraryDto, toRemoteScanDto, toUploadDto } from "./library-dto.ts";

const MAX_FILES_PER_REQUEST = 200;
const TOO_MANY_FILES: Rejection = {
  code: "too_many_files",
  message: `Only the first ${MAX_FILES_PER_REQUEST} files of a request are taken; send the others in another request`,
};

const libraryFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(5000),
  privacy: z.enum(PRIVACY_LEVELS),
  approveFollows: z.boolean(),
  musicFolder: z.string().min(1).max(4096).nullable(),
};
const createBody = z.strictObject({ ...libraryFields, description: libraryFields.description.optional(),
  privacy: libraryFields.privacy.optional(), approveFollows: libraryFields.approveFollows.optional(),
  musicFolder: libraryFields.musicFolder.optional() });
const updateBody = z.strictObject(libraryFields).partial();
const listQuery = z.object({ scope: z.enum(["mine", "visible"]).default("mine") });

export const librariesOperations: Operation[] = [
  { method: "get", path: "/libraries", tag: "Libraries", summary: "Your libraries (scope=visible adds others' shared ones)", auth: true, query: listQuery },
  { method: "post", path: "/libraries", tag: "Libraries", summary: "Create a library", auth: true, body: createBody, status: 201 },
  { method: "get", path: "/libraries/:id", tag: "Libraries", summary: "A library you may see" },
  { method: "patch", path: "/libraries/:id", tag: "Libraries", summary: "Rename, describe or re-share your library", auth: true, body: updateBody },
  { method: "delete", path: "/libraries/:id", tag: "Libraries", summary: "Delete your library and its stored files", auth: true, status: 204 },
  {
    method: "post",
    path: "/libraries/:id/scan",
    tag: "Libraries",
    summary: "Rescan your library's music folder, or a remote library you follow (at most every 10 minutes but for administrators: 429)",
    auth: true,
    status: 202,
  },
  {
    method: "get",
    path: "/libraries/:id/import-status",
    tag: "Libraries",
    summary: "Your library's uploads counted by status, how fast they import and the time left, whether a folder scan is waiting or running, and why the last one failed",
    auth: true,
  },
  { method: "post", path: "/libraries/:id/uploads", tag: "Libraries", summary: "Upload files (multipart/form-data)", auth: true, status: 201 },
];

export function librariesRoutes(deps: ServerDeps): Router {
  const router = Router();
  const { libraries, uploads, scans, remoteScans } = deps;
  const urls = objectUrls(deps.config.http.publicUrl);

  /** Remote libraries come with their latest scan. */
  async function toDtos(items: Library[], viewerId: string | undefined) {
    const latest = await remoteScans.latest(items.filter((l) => !l.owner).map((l) => l.id));
    return items.map((l) => toLibraryDto(l, viewerId, urls, l.owner ? undefined : (latest.get(l.id) ?? null)));
  }

  router.get(
    "/",
    requireUser,
    handle(async (req, res) => {
      const { user } = currentAuth(res);
      const items = await libraries.list(user, parse(listQuery, req.query).scope);
      return { items: await toDtos(items, user.id) };
    }),
  );

  router.post(
    "/",
    requireUser,
    handle(async (req, res) => {
      const { user } = currentAuth(res);
      const library = await libraries.create(user, parse(createBody, req.body));
      if (library.musicFolder) await scans.enqueue(library.id);
      return toLibraryDto(library, user.id, urls);
    }, 201),
  );

  router.get(
    "/:id",
    handle(async (req, res) => {
      const viewer = res.locals.auth?.user;
      const [dto] = await toDtos([await libraries.get(viewer, pathId(req.params.id, "library"))], viewer?.id);
      return dto;
    }),
  );

  router.patch(
    "/:id",
    requireUser,
    handle(async (req, res) => {
      const { user } = currentAuth(res);
      const library = await libraries.update(user, pathId(req.params.id, "library"), parse(updateBody, req.body));
      return toLibraryDto(library, user.id, urls);
    }),
  );

  router.delete(
    "/:id",
    requireUser,
    handle(async (req, res) => {
      await libraries.delete(currentAuth(res).user, pathId(req.params.id, "library"));
      return undefined;
    }),
  );

  router.post(
    "/:id/scan",
    requireUser,
    handle(async (req, res) => {
      const { user } = currentAuth(res);
      const id = pathId(req.params.id, "library");
      const library = await libraries.get(user, id);
      // A remote library its follower sees: a scan of its pages (throttled), answered with the scan.
      if (!library.owner) return { queued: true, scan: toRemoteScanDto(await remoteScans.request(user, library.id)) };
      await libraries.getOwned(user, id);
      if (!library.musicFolder) throw new Invalid("This library has no music folder to scan", undefined, "no_music_folder");
      await scans.enqueue(library.id);
      return { queued: true };
    }, 202),
  );

  router.get(
    "/:id/import-status",
    requireUser,
    handle(async (req, res) => {
      const library = await libraries.getOwned(currentAuth(res).user, pathId(req.params.id, "library"));
      const [scan, counts, rate] = await Promise.all([scans.state(library.id), uploads.libraryCounts(library.id), uploads.libraryRate(library.id)]);
      return { ...scan, lastScanAt: library.lastScanAt?.toISOString() ?? null, counts, rate };
    }),
  );

  router.post(
    "/:id/uploads",
    requireUser,
    handle(async (req, res) => {
      const { user } = currentAuth(res);
      const library = await libraries.getOwned(user, pathId(req.params.id, "library"));
      const batchId = await uploads.startBatch(library.id, "upload");
      const { results, overLimit } = await forEachFile(
        req,
        { files: MAX_FILES_PER_REQUEST, fileSize: uploads.maxUploadBytes + 1 },
        (name, stream) => uploads.receive(user, library, batchId, name, stream),
      ).catch(async (error: unknown) => {
        await uploads.discardBatch(batchId);
        throw error;
      });
      const accepted = results.filter((r): r is UploadRow => "id" in r);
      const rejected = results.filter((r): r is Rejection => !("id" in r));
      // The files kept are listed in `uploads`; those past the limit were not read at all.
      if (overLimit) rejected.push(TOO_MANY_FILES);
      if (accepted.length === 0) {
        await uploads.discardBatch(batchId);
        throw new TooLarge(rejected[0]!.message, rejected[0]!.code, { rejected });
      }
      return { batchId, uploads: accepted.map(toUploadDto), rejected };
    }, 201),
  );

  return router;
}
