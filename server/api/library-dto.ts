import type { ObjectUrls } from "../../core/fediverse/object-urls.ts";
import type { Library } from "../../core/library/library.entity.ts";
import type { UploadRow } from "../../core/library/uploads.service.ts";

/**
 * `apUrl` is the library's ActivityPub id (what another server pastes to follow it); `handle` its actor's
 * WebFinger handle, null where WebFinger does not answer: a private library (found only through its URL)
 * or a remote one.
 */
export function toLibraryDto(library: Library, viewerId: string | undefined, urls: ObjectUrls) {
  const isOwner = viewerId !== undefined && library.owner?.id === viewerId;
  const local = !!library.owner;
  return {
    id: library.id,
    name: library.name,
    description: library.description,
    privacy: library.privacy,
    approveFollows: library.approveFollows,
    actorId: library.actor.fid ?? null,
    apUrl: local ? urls.library(library.id) : library.fid,
    handle: local && library.privacy !== "private" ? `@${library.actor.username}@${library.actor.domain}` : null,
    isOwner,
    ...(isOwner ? { musicFolder: library.musicFolder ?? null, lastScanAt: library.lastScanAt?.toISOString() ?? null } : {}),
    createdAt: library.createdAt.toISOString(),
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
