import type { Task } from "graphile-worker";
import type pg from "pg";
import { z } from "zod";
import { enqueueScan, scanFolder } from "../../core/library/folder-scanner.ts";
import type { UploadsService } from "../../core/library/uploads.service.ts";

const payloadSchema = z.object({ libraryId: z.uuid() });

/** Rescans one library's music folder: new, changed and removed files. */
export function scanLibraryTask(deps: { pool: pg.Pool; uploads: UploadsService; coversDir: string }): Task {
  return async (payload) => {
    const { libraryId } = payloadSchema.parse(payload);
    const { rows } = await deps.pool.query<{ music_folder: string | null }>("SELECT music_folder FROM library WHERE id = $1", [
      libraryId,
    ]);
    const folder = rows[0]?.music_folder;
    if (folder) await scanFolder(deps, libraryId, folder);
  };
}

/** Cron: queue a rescan of every library that has a music folder. */
export function rescanLibrariesTask(pool: pg.Pool): Task {
  return async () => {
    const { rows } = await pool.query<{ id: string }>("SELECT id FROM library WHERE music_folder IS NOT NULL");
    for (const row of rows) await enqueueScan(pool, row.id);
  };
}
