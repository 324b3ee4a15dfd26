import type pg from "pg";
import { recordingMsidSql, type ListenRow } from "./listen-history.service.ts";

/** Listens read per query while exporting: memory stays flat whatever the history's size. */
const EXPORT_PAGE = 1000;

interface ExportRow extends Omit<ListenRow, "listened_at" | "created_at" | "track_id" | "source"> {
  id: string;
  /** As text: a Date would drop the microseconds the keyset needs. */
  listened_at: string;
  ts: string;
  inserted_ts: string;
}

/**
 * One listen as ListenBrainz's "export listens" writes it (Listen.to_api(): listened_at, inserted_at,
 * recording_msid, user_name and track_metadata whose additional_info holds what the source sent plus
 * the ids we know). Keys without a value are left out, as LB does.
 */
export function listenBrainzExportListen(r: ExportRow, userName: string): Record<string, unknown> {
  const info: Record<string, unknown> = { ...(r.additional_info ?? {}) };
  const set = (key: string, value: unknown) => {
    if (value !== null && value !== undefined && !(Array.isArray(value) && !value.length)) info[key] ??= value;
  };
  set("recording_mbid", r.recording_mbid);
  set("release_mbid", r.release_mbid);
  set("release_group_mbid", r.release_group_mbid);
  set("artist_mbids", r.artist_mbids);
  set("tracknumber", r.track_number);
  if (!("duration" in info)) set("duration_ms", r.track_duration_ms);
  set("submission_client", r.client);
  info.recording_msid = r.recording_msid;
  const meta: Record<string, unknown> = { artist_name: r.artist_name, track_name: r.track_name };
  if (r.release_name) meta.release_name = r.release_name;
  meta.additional_info = info;
  return {
    listened_at: Number(r.ts),
    inserted_at: Number(r.inserted_ts),
    recording_msid: r.recording_msid,
    user_name: userName,
    track_metadata: meta,
  };
}

/**
 * All of a person's listens, oldest first, as the text of a JSON array in ListenBrainz's export format,
 * a page at a time (keyset on listened_at, id): a million listens never sit in memory together.
 */
export async function* exportListens(pool: pg.Pool, userId: string, userName: string): AsyncGenerator<string> {
  yield "[";
  let after: { at: string; id: string } | null = null;
  let first = true;
  for (;;) {
    const result: pg.QueryResult<ExportRow> = await pool.query<ExportRow>(
      `SELECT l.id, l.listened_at::text AS listened_at, extract(epoch FROM l.listened_at)::bigint AS ts, extract(epoch FROM l.created_at)::bigint AS inserted_ts,
         ${recordingMsidSql("l")} AS recording_msid, l.track_name, l.artist_name, l.release_name, l.track_duration_ms,
         l.recording_mbid, l.release_mbid, l.release_group_mbid, l.artist_mbids, l.track_number, l.additional_info, l.client
       FROM listen l
       WHERE l.user_id = $1 AND ($2::timestamptz IS NULL OR (l.listened_at, l.id) > ($2::timestamptz, $3::uuid))
       ORDER BY l.listened_at, l.id LIMIT $4`,
      [userId, after?.at ?? null, after?.id ?? null, EXPORT_PAGE],
    );
    const rows = result.rows;
    if (!rows.length) break;
    let chunk = "";
    for (const row of rows) {
      chunk += (first ? "\n" : ",\n") + JSON.stringify(listenBrainzExportListen(row, userName));
      first = false;
    }
    yield chunk;
    const last: ExportRow = rows[rows.length - 1]!;
    after = { at: last.listened_at, id: last.id };
    if (rows.length < EXPORT_PAGE) break;
  }
  yield "\n]\n";
}
