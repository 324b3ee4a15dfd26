import type { Library } from "../../core/library/library.entity.ts";
import type { UploadRow } from "../../core/library/uploads.service.ts";

export function toLibraryDto(library: Library, viewerId: string | undefined) {
  const isOwner = viewerId !== undefined && library.owner?.id === viewerId;
  return {
    id: library.id,
    name: library.name,
    description: library.description,
    privacy: library.privacy,
    approveFollows: library.approveFollows,
    actorId: library.actor.fid ?? null,
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
