import busboy from "busboy";
import type { Request } from "express";
import type { Readable } from "node:stream";
import { Invalid } from "../../core/errors.ts";

/**
 * Streams each file part of a multipart/form-data request to `onFile` as it arrives, never buffering
 * a whole file. Parts are handled one after another, as the body delivers them. Files past
 * `limits.files` are skipped unread; `overLimit` says there were some (the results are exactly the
 * files that were handled, so the caller can say which were kept).
 */
export async function forEachFile<T>(
  req: Request,
  limits: { files: number; fileSize: number },
  onFile: (filename: string, stream: Readable) => Promise<T>,
): Promise<{ results: T[]; overLimit: boolean }> {
  if (!req.is("multipart/form-data")) {
    throw new Invalid("Send the files as multipart/form-data", undefined, "multipart_required");
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, defParamCharset: "utf8", limits: { files: limits.files, fileSize: limits.fileSize, fields: 20, parts: limits.files + 20 } });
  } catch {
    throw new Invalid("The multipart body is malformed (missing boundary?)", undefined, "malformed_multipart");
  }
  const results: Promise<T>[] = [];
  // One file at a time: each sees the quota as the previous one left it. A waiting part simply
  // holds the request stream back.
  let previous: Promise<unknown> = Promise.resolve();
  let tooMany = false;
  const done = new Promise<void>((resolve, reject) => {
    parser.on("file", (_field, stream, info) => {
      const result = previous.then(() => onFile(info.filename ?? "unnamed", stream));
      previous = result.catch(() => {});
      results.push(result);
    });
    parser.on("filesLimit", () => (tooMany = true));
    parser.on("close", resolve);
    parser.on("error", () => reject(new Invalid("The multipart body is malformed or cut short", undefined, "malformed_multipart")));
  });
  req.pipe(parser);
  await done;
  const settled = await Promise.all(results);
  if (settled.length === 0) throw new Invalid("The request holds no file", undefined, "no_file");
  return { results: settled, overLimit: tooMany };
}
