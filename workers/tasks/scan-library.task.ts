import type { Task } from "graphile-worker";
import { z } from "zod";
import { getLogger } from "../../config/logging.ts";
import { Invalid } from "../../core/errors.ts";
import { scanFolder } from "../../core/library/folder-scanner.ts";
import type { LibraryScansService } from "../../core/library/library-scans.service.ts";

const log = getLogger(["polyphony", "library", "scan"]);

const payloadSchema = z.object({ libraryId: z.uuid() });

/** Rescans one library's music folder: new, changed and removed files. */
export function scanLibraryTask(deps: Parameters<typeof scanFolder>[0] & { scans: LibraryScansService }): Task {
  return async (payload) => {
    const { libraryId } = payloadSchema.parse(payload);
    const folder = await deps.scans.musicFolderOf(libraryId);
    if (!folder) return;
    // A folder that cannot be scanned (unmounted, or now a link to our data) fails the job, and its error
    // is the library's scan error (scanState) until the next scan; a disk mounted meanwhile is read on a retry.
    await scanFolder(deps, libraryId, folder).catch((error: unknown) => {
      if (error instanceof Invalid) log.warning("Not scanning {folder} of library {libraryId}: {reason}", { folder, libraryId, reason: error.message });
      throw error;
    });
  };
}

/** Cron: queue a rescan of every library that has a music folder. */
export function rescanLibrariesTask(scans: LibraryScansService): Task {
  return async () => {
    await scans.enqueueEveryFolder();
  };
}
