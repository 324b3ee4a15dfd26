// Uploads one file to a library with XMLHttpRequest, which (unlike fetch) reports upload progress.
import { API_BASE, ApiError, csrfHeader } from "../api.ts";
import type { Upload } from "../types.ts";

export interface UploadResult {
  batchId: string;
  uploads: Upload[];
  rejected: { name?: string; code: string; message: string }[];
}

export function uploadFile(libraryId: string, file: File, onProgress: (fraction: number) => void): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${API_BASE}/libraries/${libraryId}/uploads`);
    for (const [name, value] of Object.entries(csrfHeader())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    xhr.onload = () => {
      const body = xhr.response as (UploadResult & { error?: { code: string; message: string; details?: unknown } }) | null;
      if (xhr.status >= 200 && xhr.status < 300 && body) {
        onProgress(1);
        resolve(body);
      } else {
        reject(new ApiError(xhr.status, body?.error?.code ?? `http_${xhr.status}`, body?.error?.message ?? "The upload failed", body?.error?.details));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "The connection to the server was lost"));
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}
