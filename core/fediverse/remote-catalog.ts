import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { afterCommit } from "../db/transaction.ts";
import { commitBatch } from "../library/catalog-batch.ts";
import { catalogLockKeys, createdRows, type CreatedRows, lockKeys, writeCatalog } from "../library/catalog-writer.ts";
import { deleteOrphans } from "../library/orphans.ts";
import type { UploadsService } from "../library/uploads.service.ts";
import { notifyCatalogChanged } from "./catalog-events.ts";
import { InvalidRemoteAudio, parseRemoteAudio, type RemoteAudio } from "./remote-audio.ts";

// Remote Audio objects into our catalog, matched the way imports are (catalog-batch.ts for new ones,
// catalog-writer.ts for changed ones: MusicBrainz ids, then normalised names), so a remote album that is
// also here is one album with two copies. Used by the scan (a page per transaction) and by live sync
// (Create/Update/Delete(Audio)); everything runs in the caller's transaction and is idempotent.

const log = getLogger(["polyphony", "fediverse", "remote-catalog"]);

/** A remote library: our row's id and its ActivityPub id. */
export interface RemoteLibraryRef {
  id: string;
  fid: string;
}

export interface ApplyCounts {
  added: number;
  updated: number;
  unchanged: number;
  /** Audio ids another library already holds here (two remote libraries claiming one Audio): left alone. */
  conflicts: number;
}

export interface ApplyOptions {
  /** Where cached copies of remote audio live: a copy whose audio changed is removed after commit. */
  mediaDir?: string;
}

interface KnownUpload {
  id: string;
  fid: string;
  library_id: string;
  track_id: string | null;
  source_digest: string | null;
  source_url: string;
  size: string;
  cached_path: string | null;
}

/** Why an Audio may not go into this library (another server's id, another library's item); null when it may. */
export function remoteAudioProblem(library: RemoteLibraryRef, audio: Pick<RemoteAudio, "fid" | "libraryFid" | "sourceUrl">): string | null {
  const origin = new URL(library.fid).origin;
  if (new URL(audio.fid).origin !== origin) return `the Audio ${audio.fid} is not on the library's server (${origin})`;
  if (new URL(audio.sourceUrl).origin !== origin) return `the audio link of ${audio.fid} is not on the library's server (${origin})`;
  if (audio.libraryFid !== null && audio.libraryFid !== library.fid) return `the Audio ${audio.fid} belongs to another library (${audio.libraryFid})`;
  return null;
}

/** The remote library `libraryId`, or null when it is not one (gone, or local). */
export async function remoteLibraryRef(tx: pg.PoolClient, libraryId: string): Promise<RemoteLibraryRef | null> {
  const { rows } = await tx.query<RemoteLibraryRef>("SELECT id, fid FROM library WHERE id = $1 AND owner_id IS NULL FOR SHARE", [libraryId]);
  return rows[0] ?? null;
}

/**
 * One Audio (raw JSON, as a Create or Update carries it) into remote library `libraryId`, in the caller's
 * transaction. Throws InvalidRemoteAudio when it is unusable or not the library's.
 */
export async function applyRemoteAudio(
  tx: pg.PoolClient,
  libraryId: string,
  audioJson: unknown,
  options: ApplyOptions = {},
): Promise<"added" | "updated" | "unchanged" | "conflict"> {
  const library = await remoteLibraryRef(tx, libraryId);
  if (!library) throw new InvalidRemoteAudio(null, `library ${libraryId} is not a remote library`);
  const audio = parseRemoteAudio(audioJson);
  const problem = remoteAudioProblem(library, audio);
  if (problem) throw new InvalidRemoteAudio(audio.fid, problem);
  const counts = await applyRemoteAudios(tx, library, [audio], options);
  return counts.added ? "added" : counts.updated ? "updated" : counts.conflicts ? "conflict" : "unchanged";
}

/**
 * Audios of one library (already checked with remoteAudioProblem) into the catalog: new ones create
 * finished remote uploads, changed ones (another digest) update theirs, unchanged ones cost one lookup.
 */
export async function applyRemoteAudios(
  tx: pg.PoolClient,
  library: RemoteLibraryRef,
  audios: RemoteAudio[],
  options: ApplyOptions = {},
): Promise<ApplyCounts> {
  const items = [...new Map(audios.map((a) => [a.fid, a])).values()];
  const counts: ApplyCounts = { added: 0, updated: 0, unchanged: 0, conflicts: 0 };
  if (!items.length) return counts;
  // Two writers of one Audio (a scan page and a live Create) take turns.
  await lockKeys(tx, items.map((a) => `audio:${a.fid}`));
  const { rows } = await tx.query<KnownUpload>(
    `SELECT id, fid, library_id, track_id, source_digest, source_url, size, cached_path FROM upload
     WHERE fid = ANY($1::text[]) FOR UPDATE`,
    [items.map((a) => a.fid)],
  );
  const known = new Map(rows.map((r) => [r.fid, r]));
  const fresh: RemoteAudio[] = [];
  const changed: { audio: RemoteAudio; upload: KnownUpload }[] = [];
  for (const audio of items) {
    const upload = known.get(audio.fid);
    if (!upload) fresh.push(audio);
    else if (upload.library_id !== library.id) {
      counts.conflicts++;
      log.warning("Audio {fid} of {library} is already held by another library; left alone", { fid: audio.fid, library: library.fid });
    } else if (upload.source_digest === audio.digest) counts.unchanged++;
    else changed.push({ audio, upload });
  }
  const created = createdRows();
  const trackOf = new Map<string, string>();
  if (fresh.length) await addFresh(tx, library.id, fresh, created, trackOf);
  if (changed.length) await updateChanged(tx, changed, created, trackOf, options);
  await markRemoteRows(tx, [...fresh, ...changed.map((c) => c.audio)], trackOf, created);
  counts.added = fresh.length;
  counts.updated = changed.length;
  if (fresh.length || changed.length) await notifyCatalogChanged(tx, library.id);
  return counts;
}

/** New Audios: the importer's bulk matching, then their finished remote uploads (the search triggers fire on insert). */
async function addFresh(tx: pg.PoolClient, libraryId: string, audios: RemoteAudio[], created: CreatedRows, trackOf: Map<string, string>) {
  const batch = audios.map((audio) => ({
    uploadId: randomUUID(),
    libraryId,
    originalName: audio.name,
    tags: audio.tags,
    // No bytes to compare: the Audio's id stands for them, so commitBatch never takes one for a duplicate.
    checksum: `remote:${audio.fid}`,
    coverHash: null,
  }));
  const outcomes = await commitBatch(tx, batch, created);
  const rows = batch.map((item, n) => {
    const outcome = outcomes.get(item.uploadId);
    if (outcome?.kind !== "finished") throw new Error(`remote Audio ${audios[n]!.fid} was not matched`);
    trackOf.set(audios[n]!.fid, outcome.trackId);
    return { id: item.uploadId, track_id: outcome.trackId, ...uploadFacts(audios[n]!) };
  });
  await tx.query(
    `INSERT INTO upload (id, library_id, track_id, storage, path, source_url, fid, original_name, size, mime_type, duration_ms,
       bitrate, lossless, status, source_digest, imported_at)
     SELECT x.id, $2, x.track_id, 'remote', NULL, x.source_url, x.fid, x.original_name, x.size, x.mime_type, x.duration_ms,
       x.bitrate, x.lossless, 'finished', x.source_digest, now()
     FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, track_id uuid, source_url text, fid text, original_name text, size bigint,
       mime_type text, duration_ms int, bitrate int, lossless boolean, source_digest text)`,
    [JSON.stringify(rows), libraryId],
  );
}

function uploadFacts(audio: RemoteAudio) {
  return {
    source_url: audio.sourceUrl,
    fid: audio.fid,
    original_name: audio.name,
    size: audio.size,
    mime_type: audio.mimeType,
    duration_ms: audio.durationMs,
    bitrate: audio.bitrate,
    lossless: audio.lossless,
    source_digest: audio.digest,
  };
}

/**
 * Changed Audios, one by one as the importer's re-imports: the track is matched again, and refreshed in
 * place when it is one the remote brought (it has an id from there) and this upload its only copy.
 */
async function updateChanged(
  tx: pg.PoolClient,
  changed: { audio: RemoteAudio; upload: KnownUpload }[],
  created: CreatedRows,
  trackOf: Map<string, string>,
  options: ApplyOptions,
) {
  const left: string[] = [];
  const staleCopies: string[] = [];
  const before = await placesOf(tx, changed.flatMap((c) => c.upload.track_id ?? []));
  for (const { audio, upload } of changed) {
    await lockKeys(tx, catalogLockKeys(audio.tags));
    // The remote's own track, held by this copy alone: refreshed in place, even renamed (keyed by its id).
    const sole = upload.track_id
      ? await tx.query<{ fid: string }>(
          `SELECT t.fid FROM track t WHERE t.id = $1 AND t.fid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM upload u WHERE u.track_id = t.id AND u.id <> $2)`,
          [upload.track_id, upload.id],
        )
      : { rows: [] };
    const own = sole.rows[0];
    const trackId = await writeCatalog(tx, audio.tags, {
      coverHash: null,
      soleUploadOf: own ? upload.track_id : null,
      keepTrack: own?.fid === audio.trackFid,
      created,
    });
    trackOf.set(audio.fid, trackId);
    // Another file (or another place): the copy kept of the old one would be played in its stead.
    const stale = upload.cached_path !== null && (upload.source_url !== audio.sourceUrl || Number(upload.size) !== audio.size);
    if (stale) staleCopies.push(upload.cached_path!);
    const facts = uploadFacts(audio);
    await tx.query(
      `UPDATE upload SET track_id = $2, source_url = $3, original_name = $4, size = $5, mime_type = $6, duration_ms = $7,
         bitrate = $8, lossless = $9, source_digest = $10, cached_path = CASE WHEN $11 THEN NULL ELSE cached_path END,
         updated_at = now()
       WHERE id = $1`,
      [upload.id, trackId, facts.source_url, facts.original_name, facts.size, facts.mime_type, facts.duration_ms, facts.bitrate,
        facts.lossless, facts.source_digest, stale],
    );
    if (upload.track_id && upload.track_id !== trackId) left.push(upload.track_id);
  }
  // Before ids are handed out: a renamed track's old row gives its id back to the new one.
  await deleteOrphans(tx, left);
  await deleteEmptied(tx, before);
  const { mediaDir } = options;
  if (mediaDir && staleCopies.length) {
    afterCommit(tx, async () => {
      for (const file of staleCopies) await rm(path.join(mediaDir, file), { force: true });
    });
  }
}

/** Where tracks were: their albums, and every artist they or their albums credit. */
async function placesOf(tx: pg.PoolClient, trackIds: string[]): Promise<{ albums: string[]; artists: string[] }> {
  if (!trackIds.length) return { albums: [], artists: [] };
  const { rows } = await tx.query<{ albums: string[]; artists: string[] }>(
    `SELECT ARRAY(SELECT DISTINCT album_id FROM track WHERE id = ANY($1::uuid[])) AS albums,
       ARRAY(SELECT t.artist_id FROM track t WHERE t.id = ANY($1::uuid[])
             UNION SELECT a.album_artist_id FROM album a JOIN track t ON t.album_id = a.id WHERE t.id = ANY($1::uuid[])
             UNION SELECT c.artist_id FROM artist_credit c WHERE c.track_id = ANY($1::uuid[])
             UNION SELECT c.artist_id FROM artist_credit c JOIN track t ON t.album_id = c.album_id WHERE t.id = ANY($1::uuid[])) AS artists`,
    [trackIds],
  );
  return rows[0]!;
}

/**
 * A track refreshed in place may have moved to another album (renamed) or artist: the ones it left, now
 * empty, go, as deleteOrphans does for deleted tracks.
 */
async function deleteEmptied(tx: pg.PoolClient, places: { albums: string[]; artists: string[] }) {
  if (!places.albums.length) return;
  await tx.query("DELETE FROM album a WHERE a.id = ANY($1::uuid[]) AND NOT EXISTS (SELECT 1 FROM track t WHERE t.album_id = a.id)", [places.albums]);
  await tx.query(
    `DELETE FROM artist ar WHERE ar.id = ANY($1::uuid[])
       AND NOT EXISTS (SELECT 1 FROM track t WHERE t.artist_id = ar.id)
       AND NOT EXISTS (SELECT 1 FROM album a WHERE a.album_artist_id = ar.id)
       AND NOT EXISTS (SELECT 1 FROM artist_credit c WHERE c.artist_id = ar.id)`,
    [places.artists],
  );
}

interface MatchedRow {
  id: string;
  album_id: string;
  track_artists: string[];
  album_artists: string[];
}

/**
 * The rows these Audios created get the remote's ids (so that an Update(Track) or Delete finds them), and
 * the albums they created (or that carry the remote's id) its cover URL. Rows that were here before keep
 * their identity: never re-labelled as the remote's.
 */
async function markRemoteRows(tx: pg.PoolClient, audios: RemoteAudio[], trackOf: Map<string, string>, created: CreatedRows) {
  if (!audios.length) return;
  const { rows } = await tx.query<MatchedRow>(
    `SELECT t.id, t.album_id,
       ARRAY(SELECT c.artist_id FROM artist_credit c WHERE c.track_id = t.id ORDER BY c.position) AS track_artists,
       ARRAY(SELECT c.artist_id FROM artist_credit c WHERE c.album_id = t.album_id ORDER BY c.position) AS album_artists
     FROM track t WHERE t.id = ANY($1::uuid[])`,
    [[...new Set(trackOf.values())]],
  );
  const matched = new Map(rows.map((r) => [r.id, r]));
  const fids = { artist: new Map<string, string>(), album: new Map<string, string>(), track: new Map<string, string>() };
  const give = (table: keyof typeof fids, id: string | undefined, fid: string | null, made: Set<string>) => {
    if (id && fid && made.has(id) && !fids[table].has(id) && ![...fids[table].values()].includes(fid)) fids[table].set(id, fid);
  };
  const covers: { id: string; album_fid: string | null; url: string | null }[] = [];
  for (const audio of audios) {
    const row = matched.get(trackOf.get(audio.fid) ?? "");
    if (!row) continue;
    give("track", row.id, audio.trackFid, created.tracks);
    give("album", row.album_id, audio.albumFid, created.albums);
    audio.artistFids.forEach((fid, n) => give("artist", row.track_artists[n], fid, created.artists));
    audio.albumArtistFids.forEach((fid, n) => give("artist", row.album_artists[n], fid, created.artists));
    covers.push({ id: row.album_id, album_fid: created.albums.has(row.album_id) ? null : audio.albumFid, url: audio.coverUrl });
  }
  for (const [table, byId] of Object.entries(fids)) {
    if (!byId.size) continue;
    await tx.query(
      `UPDATE ${table} r SET fid = x.fid FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, fid text)
       WHERE r.id = x.id AND r.fid IS NULL AND NOT EXISTS (SELECT 1 FROM ${table} o WHERE o.fid = x.fid)`,
      [JSON.stringify([...byId].map(([id, fid]) => ({ id, fid })))],
    );
  }
  await tx.query(
    `UPDATE album a SET cover_source_url = x.url
     FROM (SELECT DISTINCT ON (id) * FROM jsonb_to_recordset($1::jsonb) AS j(id uuid, album_fid text, url text)) x
     WHERE a.id = x.id AND (a.id = ANY($2::uuid[]) OR a.fid = x.album_fid) AND a.cover_source_url IS DISTINCT FROM x.url`,
    [JSON.stringify(covers), [...created.albums]],
  );
}

/** Deletes the remote library's uploads of these Audio ids (a Delete(Audio)), and what they leave orphaned. */
export async function deleteRemoteAudios(
  tx: pg.PoolClient,
  uploads: Pick<UploadsService, "deleteVanished">,
  libraryId: string,
  fids: string[],
): Promise<number> {
  const { rows } = await tx.query<{ id: string }>(
    "SELECT id FROM upload WHERE library_id = $1 AND storage = 'remote' AND fid = ANY($2::text[])",
    [libraryId, fids],
  );
  return rows.length ? deleteAndNotify(tx, uploads, libraryId, rows.map((r) => r.id)) : 0;
}

/** After a complete walk: the library's remote uploads whose Audio was not listed are deleted. */
export async function deleteUnlisted(
  tx: pg.PoolClient,
  uploads: Pick<UploadsService, "deleteVanished">,
  libraryId: string,
  listed: ReadonlySet<string>,
): Promise<number> {
  const { rows } = await tx.query<{ id: string; fid: string }>(
    "SELECT id, fid FROM upload WHERE library_id = $1 AND storage = 'remote'",
    [libraryId],
  );
  const gone = rows.filter((r) => !listed.has(r.fid)).map((r) => r.id);
  return gone.length ? deleteAndNotify(tx, uploads, libraryId, gone) : 0;
}

async function deleteAndNotify(tx: pg.PoolClient, uploads: Pick<UploadsService, "deleteVanished">, libraryId: string, ids: string[]): Promise<number> {
  const deleted = await uploads.deleteVanished(ids, tx);
  if (deleted) await notifyCatalogChanged(tx, libraryId);
  return deleted;
}
