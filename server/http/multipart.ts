import busboy from "busboy";
import type { Request } from "express";
import { finished, type Readable } from "node:stream";
import { Invalid } from "../../core/errors.ts";
import { RequestAborted } from "./client-gone.ts";

/**
 * Streams each file part of a multipart/form-data request to `onFile` as it arrives, never buffering
 * a whole file. Parts are handled one after another, as the body delivers them. Files past
 * `limits.files` are skipped unread; `overLimit` says there were some (the results are exactly the
 * files that were handled, so the caller can say which were kept).
 *
 * A body that ends early (no closing boundary, a reset or closed connection) fails the whole request:
 * the part being written sees the error on its stream (`onFile` must handle stream errors), parts still
 * waiting their turn are never handed over, and this rejects only once every `onFile` has settled, so
 * the caller can clean up after all of them. The error is RequestAborted when the client went away,
 * Invalid (`malformed_multipart`) when the body itself is broken.
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
  let failure: Error | undefined;
  const done = new Promise<void>((resolve) => {
    parser.on("file", (_field, stream, info) => {
      // Listened to at once: busboy destroys a waiting part's stream with an error when the body breaks off.
      stream.on("error", () => {});
      const result = previous.then(() => {
        if (failure) throw failure;
        return onFile(info.filename ?? "unnamed", stream);
      });
      previous = result.catch(() => {});
      results.push(result);
    });
    parser.on("filesLimit", () => (tooMany = true));
    parser.on("close", resolve);
    parser.on("error", (error) => {
      failure ??= error instanceof RequestAborted ? error : new Invalid("The multipart body is malformed or cut short", undefined, "malformed_multipart");
      resolve();
    });
  });
  // A connection that closes or resets mid-body never ends the parser: destroy it, which errors the part
  // being written. finished() also sees a request that was already gone.
  const stopWatching = finished(req, { writable: false }, (error) => {
    if (error && !parser.destroyed) parser.destroy(new RequestAborted());
  });
  req.pipe(parser);
  await done;
  stopWatching();
  const settled = await Promise.allSettled(results);
  if (failure) {
    // Whatever the client still sends is read and dropped, so the error answer can go out.
    req.unpipe(parser);
    req.resume();
    throw failure;
  }
  if (settled.length === 0) throw new Invalid("The request holds no file", undefined, "no_file");
  const handled = settled.map((outcome) => {
    if (outcome.status === "rejected") throw outcome.reason;
    return outcome.value;
  });
  return { results: handled, overLimit: tooMany };
}
