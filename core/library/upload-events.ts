import type { Queryable } from "../jobs/enqueue.ts";
import type { UploadStatus } from "./upload.entity.ts";

/** The channel migration 0008's trigger notifies on whenever an upload is created or changes status. */
export const UPLOAD_EVENTS_CHANNEL = "polyphony_upload";

/** What a live stream says about an upload (the `upload` event of GET /api/v1/events). */
export interface UploadEvent {
  id: string;
  libraryId: string;
  batchId: string | null;
  status: UploadStatus;
  error: { code: string; message: string } | null;
  trackId: string | null;
}

/** The events of one notification, all for uploads of one library, so of one owner. */
export interface UploadEvents {
  ownerId: string;
  events: UploadEvent[];
}

interface Notification {
  l: string;
  o: string;
  r: [id: string, batchId: string | null, status: UploadStatus, trackId: string | null][];
}

/** Turns a notification's payload into events, without error details (see `addErrorDetails`). */
export function parseUploadNotification(payload: string): UploadEvents {
  const notification = JSON.parse(payload) as Notification;
  return {
    ownerId: notification.o,
    events: notification.r.map(([id, batchId, status, trackId]) => ({ id, libraryId: notification.l, batchId, status, error: null, trackId })),
  };
}

/**
 * The trigger leaves error details out (they would not fit NOTIFY's 8000 bytes), so errored and skipped
 * uploads get theirs here, in one query per notification that carries some.
 */
export async function addErrorDetails(db: Queryable, events: UploadEvent[]): Promise<void> {
  const needDetails = events.filter((e) => e.status === "errored" || e.status === "skipped");
  if (!needDetails.length) return;
  const { rows } = await db.query(
    "SELECT id, error_code, error_message FROM upload WHERE id = ANY($1::uuid[]) AND error_code IS NOT NULL",
    [needDetails.map((e) => e.id)],
  );
  const errors = new Map((rows as { id: string; error_code: string; error_message: string | null }[]).map((r) => [r.id, r]));
  for (const event of needDetails) {
    const row = errors.get(event.id);
    if (row) event.error = { code: row.error_code, message: row.error_message ?? "" };
  }
}
