import type { ObjectUrls } from "../../core/fediverse/object-urls.ts";
import type { RemoteScanView } from "../../core/fediverse/remote-scans.service.ts";
import type { Library } from "../../core/library/library.entity.ts";
import type { UploadRow } from "../../core/library/uploads.service.ts";

/**
 * `apUrl` is the library's ActivityPub id (what another server pastes to follow it); `handle` its actor's
 * WebFinger handle, null where WebFinger does not answer: a private library (found only through its URL)
 * or a remote one. `remoteScan`: a remote library's latest scan (loaded by the route; null when it was
 * never scanned).
 */
export function toLibraryDto(library: Library, viewerId: string | undefined, urls: ObjectUrls, remoteScan?: RemoteScanView | null) {
  const isOwner = viewerId !== undefined && library.owner?.id === viewerId;
  const remote = !library.owner;
  return {
    id: library.id,
    name: library.name,
    description: library.description,
    privacy: library.privacy,
    approveFollows: library.approveFollows,
    actorId: library.actor.fid ?? null,
    apUrl: remote ? library.fid : urls.library(library.id),
    handle: !remote && library.privacy !== "private" ? `@${library.actor.username}@${library.actor.domain}` : null,
    isOwner,
    /** Another server's library, followed from here. */
    remote,
    ...(isOwner ? { musicFolder: library.musicFolder ?? null, lastScanAt: library.lastScanAt?.toISOString() ?? null } : {}),
    ...(remote ? { lastScanAt: library.lastScanAt?.toISOString() ?? null, remoteScan: remoteScan ? toRemoteScanDto(remoteScan) : null } : {}),
    createdAt: library.createdAt.toISOString(),
  };
}

export function toRemoteScanDto(scan: RemoteScanView) {
  const iso = (date: Date | null) => date?.toISOString() ?? null;
  return {
    id: scan.id,
    /** queued, scanning, finished or errored. */
    status: scan.status,
    /** Why it failed (errored), or what it left out (finished). */
    reason: scan.reason,
    pages: scan.pages,
    itemsSeen: scan.itemsSeen,
    itemsAdded: scan.itemsAdded,
    itemsUpdated: scan.itemsUpdated,
    itemsRemoved: scan.itemsRemoved,
    itemsSkipped: scan.itemsSkipped,
    createdAt: scan.createdAt.toISOString(),
    startedAt: iso(scan.startedAt),
    finishedAt: iso(scan.finishedAt),
  };
}

export function toUploadDto(upload: UploadRow) {
  return {
    id: upload.id,
    libraryId: upload.library_id,
    trackId: upload.track_id,
    batchId: upload.batch_id,
    originalName: upload.original_name,
    size: Number(upload.size),
    mimeType: upload.mime_type,
    status: upload.status,
    error: upload.error_code ? { code: upload.error_code, message: upload.error_message } : null,
    createdAt: new Date(upload.created_at).toISOString(),
    importedAt: upload.imported_at ? new Date(upload.imported_at).toISOString() : null,
  };
}
