/**
 * Where an upload's bytes are and which folder they may not lead out of: MEDIA_DIR for stored uploads, the
 * folder it was imported from for in-place ones. Every reader of an upload's audio opens it here.
 */
import path from "node:path";
import { getLogger } from "../../config/logging.ts";
import { openInside, RefusedFile, type OpenFile } from "../media/safe-open.ts";

const log = getLogger(["polyphony", "library", "files"]);

export interface UploadFileFields {
  storage: "stored" | "in_place";
  path: string;
  root: string | null;
}

export function uploadLocation(mediaDir: string, upload: UploadFileFields): { file: string; root: string } {
  if (upload.storage === "stored") return { file: path.join(mediaDir, upload.path), root: mediaDir };
  // Rows from before migration 0013 all have a root; the file's own folder is the narrowest fallback.
  return { file: upload.path, root: upload.root ?? path.dirname(upload.path) };
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
