/**
 * Where an upload's bytes are and which folder they may not lead out of: MEDIA_DIR for stored uploads (and
 * the cached copies of remote ones), the folder it was imported from for in-place ones. Every reader of an upload's audio opens it here.
 */
import path from "node:path";
import { getLogger } from "../../config/logging.ts";
import { openInside, RefusedFile, type OpenFile } from "../media/safe-open.ts";
import type { UploadStorage } from "./upload.entity.ts";

const log = getLogger(["polyphony", "library", "files"]);

export interface UploadFileFields {
  storage: UploadStorage;
  /** Local storages only (a CHECK). */
  path: string | null;
  root: string | null;
  /** Remote uploads: the copy kept once played, relative to MEDIA_DIR. */
  cached_path?: string | null;
}

export function uploadLocation(mediaDir: string, upload: UploadFileFields): { file: string; root: string } {
  if (upload.storage === "remote") {
    // Nothing is on disk until the audio has been fetched from its server: missing, like a vanished file.
    if (!upload.cached_path) throw new RefusedFile("missing", "remote audio");
    return { file: path.join(mediaDir, upload.cached_path), root: mediaDir };
  }
  const local = upload.path!; // local storages always have a path (upload_location_check)
  if (upload.storage === "stored") return { file: path.join(mediaDir, local), root: mediaDir };
  // Rows from before migration 0013 all have a root; the file's own folder is the narrowest fallback.
  return { file: local, root: upload.root ?? path.dirname(local) };
}

/**
 * Opens an upload's audio through the folder boundary (safe-open.ts). A refusal other than a vanished
 * file is logged for the operator: it means a link or a special file where audio used to be.
 */
export async function openUploadFile(mediaDir: string, upload: UploadFileFields & { id: string }): Promise<OpenFile> {
  const { file, root } = uploadLocation(mediaDir, upload);
  try {
    return await openInside(root, file);
  } catch (error) {
    if (error instanceof RefusedFile && error.code !== "missing") {
      log.warning("Refusing to read upload {uploadId} at {file}: {reason}", { uploadId: upload.id, file, reason: error.message });
    }
    throw error;
  }
}
