import { defineEntity, p, type InferEntity } from "@mikro-orm/core";
import { TrackSchema } from "./catalog.entity.ts";
import { LibrarySchema } from "./library.entity.ts";

export const UPLOAD_STATUSES = ["pending", "finished", "errored", "skipped"] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

export const ImportBatchSchema = defineEntity({
  name: "ImportBatch",
  tableName: "import_batch",
  properties: {
    id: p.uuid().primary(),
    library: () => p.manyToOne(LibrarySchema).deleteRule("cascade").index(),
    kind: p.enum(["upload", "folder"]),
    createdAt: p.datetime().defaultRaw("now()"),
  },
});

export const UPLOAD_STORAGES = ["stored", "in_place", "remote"] as const;
export type UploadStorage = (typeof UPLOAD_STORAGES)[number];

/**
 * One audio file of a track inside one library. `stored` files live under MEDIA_DIR and are ours to
 * delete; `in_place` files belong to the library's music folder and are never deleted by us; `remote`
 * ones are another server's (sourceUrl), copied under MEDIA_DIR (cachedPath) once played.
 */
export const UploadSchema = defineEntity({
  name: "Upload",
  tableName: "upload",
  properties: {
    id: p.uuid().primary(),
    library: () => p.manyToOne(LibrarySchema).deleteRule("cascade"),
    track: () => p.manyToOne(TrackSchema).nullable().deleteRule("set null").index(),
    batch: () => p.manyToOne(ImportBatchSchema).nullable().deleteRule("set null").index(),
    storage: p.enum([...UPLOAD_STORAGES]),
    /** in_place: absolute path; stored: path relative to MEDIA_DIR; remote: none. */
    path: p.text().nullable(),
    /** remote: where the audio is (the Audio object's url). */
    sourceUrl: p.text().nullable(),
    /** remote: the copy kept once played, relative to MEDIA_DIR. */
    cachedPath: p.text().nullable(),
    /** remote: a digest of its Audio object as last applied; a rescan skips an unchanged one. */
    sourceDigest: p.text().nullable(),
    /** remote: the kept copy's size, counted against REMOTE_CACHE_MAX_MB (migration 0018). */
    cachedSize: p.bigint("number").nullable(),
    /** remote: when the kept copy was last played (throttled); the least recently used is evicted first. */
    cacheUsedAt: p.datetime().nullable(),
    /** in_place: the folder it was imported from, which it may not lead out of (migration 0013). */
    root: p.text().nullable(),
    originalName: p.text(),
    size: p.bigint("number"),
    mtime: p.datetime().nullable(),
    checksum: p.text().nullable(),
    mimeType: p.text().nullable(),
    durationMs: p.integer().nullable(),
    bitrate: p.integer().nullable(),
    sampleRate: p.integer().nullable(),
    bitDepth: p.integer().nullable(),
    channels: p.integer().nullable(),
    codec: p.text().nullable(),
    lossless: p.boolean().nullable(),
    replayGain: p.json<Record<string, number | null>>().nullable(),
    lyrics: p.text().nullable(),
    lyricsSynced: p.boolean().nullable(),
    status: p.enum([...UPLOAD_STATUSES]).default("pending"),
    errorCode: p.text().nullable(),
    errorMessage: p.text().nullable(),
    fid: p.text().nullable().unique(),
    importedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw("now()"),
    updatedAt: p.datetime().defaultRaw("now()").onUpdate(() => new Date()),
  },
  uniques: [{ properties: ["library", "path"] }],
  checks: [
    {
      name: "upload_location_check",
      expression: `(storage = 'remote' AND path IS NULL AND source_url IS NOT NULL AND fid IS NOT NULL)
        OR (storage <> 'remote' AND path IS NOT NULL AND source_url IS NULL AND cached_path IS NULL)`,
    },
    { name: "upload_cache_check", expression: "num_nulls(cached_path, cached_size, cache_used_at) IN (0, 3)" },
  ],
  indexes: [
    { properties: ["library", "status"] },
    { properties: ["library", "checksum"] },
    // A track's finished copies best first (migrations 0015, 0020; core/catalog/catalog-read.ts BEST_COPY_ORDER):
    // the copy an album page shows and streams, a copy on this server before a remote one.
    {
      name: "upload_best_copy_order_index",
      expression: `CREATE INDEX upload_best_copy_order_index ON upload (track_id, (storage = 'remote'), lossless DESC NULLS LAST,
        bitrate DESC NULLS LAST, created_at, id) WHERE status = 'finished'`,
    },
    // A library's federated pages, by upload id (migration 0019).
    { name: "upload_library_id_id_index", properties: ["library", "id"], where: "status = 'finished'" },
    // The remote cache's copies, least recently used first (migration 0018).
    { name: "upload_cache_used_at_index", properties: ["cacheUsedAt"], where: "cached_path IS NOT NULL" },
  ],
});

export type Upload = InferEntity<typeof UploadSchema>;
export type ImportBatch = InferEntity<typeof ImportBatchSchema>;
