/**
 * What an upload cut by a crash leaves (kill -9, a power cut: no cleanup ran): its `.part` file under
 * MEDIA_DIR/uploads and its batch, still empty. A live upload keeps writing its `.part`, and a request
 * lasts minutes at most (Node's requestTimeout), so these are removed once nothing can still use them.
 */
import { lstat, readdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Queryable } from "../jobs/enqueue.ts";

/** A `.part` file untouched this long is no upload's any more. */
const PART_FILE_IDLE_MS = 60 * 60 * 1000;

export async function removeUploadLeftovers(db: Queryable, mediaDir: string): Promise<{ files: number; batches: number }> {
  const uploads = path.join(mediaDir, "uploads");
  const names = await readdir(uploads, { recursive: true }).catch(() => []);
  let files = 0;
  for (const name of names.filter((n) => n.endsWith(".part"))) {
    const file = path.join(uploads, name);
    const info = await lstat(file).catch(() => null);
    if (!info?.isFile() || Date.now() - info.mtimeMs < PART_FILE_IDLE_MS) continue;
    await rm(file, { force: true });
    files++;
  }
  const { rowCount } = await db.query(
    `DELETE FROM import_batch b WHERE b.kind = 'upload' AND b.created_at < now() - interval '1 day'
       AND NOT EXISTS (SELECT 1 FROM upload u WHERE u.batch_id = b.id)`,
  );
  return { files, batches: rowCount ?? 0 };
}
