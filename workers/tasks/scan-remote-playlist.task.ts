import type { Task } from "graphile-worker";
import { z } from "zod";
import { getLogger } from "../../config/logging.ts";
import type { RemotePlaylistScanner } from "../../core/fediverse/remote-playlist-scan.ts";
import type { AlbumCovers } from "../../core/library/remote-covers.ts";

const log = getLogger(["polyphony", "fediverse", "remote-playlist"]);

const payloadSchema = z.object({ playlistId: z.uuid(), requestedBy: z.uuid().nullish() });

/**
 * Reads a followed remote playlist (core/fediverse/remote-playlist-scan.ts): payload `{ playlistId,
 * requestedBy? }`, job key `scan_remote_playlist:<playlistId>` (enqueueRemotePlaylistScan). A failure
 * (its server away) fails the job, which graphile-worker retries with backoff.
 */
export function scanRemotePlaylistTask(deps: { scanner: RemotePlaylistScanner; covers: AlbumCovers }): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) return void log.warning("Dropping remote playlist scan job {jobId} with a malformed payload", { jobId: helpers.job.id });
    const outcome = await deps.scanner.run(parsed.data.playlistId, parsed.data.requestedBy ?? null);
    if (outcome.kind === "finished") await deps.covers.prefetchForLibrary(outcome.libraryId);
  };
}
