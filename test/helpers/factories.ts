// Catalog rows for tests that read the catalog rather than test importing: no ffmpeg, no upload request, no
// worker. Tracks go through the importer's own bulk writer (commitBatch: artists, albums, tracks, credits,
// genres), and their uploads turn finished as an import leaves them, so the search index (migration 0005)
// and the catalog counters (0009, 0011) move through the same triggers as after a real import.
import { createHash, randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { withTransaction, type TransactionSource } from "../../core/db/transaction.ts";
import { commitBatch } from "../../core/library/catalog-batch.ts";
import { processCover } from "../../core/media/artwork.ts";
import { artistCredits, cleanList, cleanText } from "../../core/media/artist-credits.ts";
import { withFileNameTags } from "../../core/media/file-name-tags.ts";
import { genres, isoDate, lyricsFromText } from "../../core/media/tag-mapping.ts";
import type { TrackTags } from "../../core/media/tags.ts";
import type { AudioFormat, TagValues } from "../fixtures/audio.ts";

/** Where seeded files and covers go: a test app (test/helpers/app.ts) has both. */
export interface SeedTarget {
  db: TransactionSource;
  config: { mediaDir: string };
}

export interface TrackSeed {
  /** The tags the file would carry, named as test/fixtures/audio.ts names them (TITLE, ARTIST, ALBUM, DATE...). */
  tags: TagValues;
  /** Decides the MIME type, codec, bit rate and losslessness, as the tag reader finds them in ffmpeg's tones (default mp3). */
  format?: AudioFormat;
  /** The file's name as uploaded, without extension (default: the title); untagged titles and numbers come from it. */
  name?: string;
  /** An embedded front cover (PNG or JPEG), stored as the importer stores one. */
  cover?: Buffer;
  /** The stored bytes (default: a small placeholder). Give real audio (makeAudio) when the test plays or transcodes it. */
  data?: Uint8Array;
  /** Length in seconds (default 1.5, as makeAudio's tones). */
  seconds?: number;
}

export interface SeededTrack {
  uploadId: string;
  trackId: string;
}

type FormatFacts = Pick<TrackTags, "mimeType" | "codec" | "lossless" | "bitrate" | "sampleRate" | "bitDepth" | "channels">;

/** What readTags reports for makeAudio's tones in each format. */
const FORMATS: Record<AudioFormat, FormatFacts> = {
  mp3: { mimeType: "audio/mpeg", codec: "MPEG 1 Layer 3", lossless: false, bitrate: 64_000, sampleRate: 44_100, bitDepth: null, channels: 2 },
  flac: { mimeType: "audio/flac", codec: "FLAC", lossless: true, bitrate: 99_403, sampleRate: 44_100, bitDepth: 16, channels: 2 },
  ogg: { mimeType: "audio/ogg", codec: "Vorbis I", lossless: false, bitrate: 64_000, sampleRate: 44_100, bitDepth: null, channels: 2 },
  opus: { mimeType: "audio/ogg", codec: "Opus", lossless: false, bitrate: 15_392, sampleRate: 48_000, bitDepth: null, channels: 2 },
  m4a: { mimeType: "audio/mp4", codec: "AAC", lossless: false, bitrate: 64_337, sampleRate: 44_100, bitDepth: null, channels: 2 },
  wav: { mimeType: "audio/wav", codec: "PCM", lossless: true, bitrate: 1_411_200, sampleRate: 44_100, bitDepth: 16, channels: 2 },
};

const VARIOUS_ARTISTS_MBID = "89ad4ac3-39f7-470e-963a-56509c546377";

/**
 * Seeds tracks into a library as one upload batch imported in one chunk, in the given order; returns the
 * upload and track of each seed. Same tags, same matching: two seeds of one album share its row.
 */
export async function seedTracks(app: SeedTarget, libraryId: string, seeds: TrackSeed[]): Promise<SeededTrack[]> {
  const items = await Promise.all(seeds.map((seed) => prepare(app, libraryId, seed)));
  return withTransaction(app.db, async ({ sql: client }) => {
    const batchId = randomUUID();
    await client.query("INSERT INTO import_batch (id, library_id, kind) VALUES ($1, $2, 'upload')", [batchId, libraryId]);
    for (const item of items) {
      await client.query(
        `INSERT INTO upload (id, library_id, batch_id, storage, path, original_name, size, checksum)
         VALUES ($1, $2, $3, 'stored', $4, $5, $6, $7)`,
        [item.uploadId, libraryId, batchId, item.path, item.originalName, item.size, item.checksum],
      );
    }
    const outcomes = await commitBatch(client, items);
    // One statement at a time: a pg client queues parallel queries, which pg 9 will refuse.
    const seeded: SeededTrack[] = [];
    for (const item of items) {
      const outcome = outcomes.get(item.uploadId);
      if (outcome?.kind !== "finished") throw new Error(`${item.originalName} was not imported: ${JSON.stringify(outcome)}`);
      await markFinished(client, item, outcome.trackId);
      seeded.push({ uploadId: item.uploadId, trackId: outcome.trackId });
    }
    return seeded;
  });
}

/** Seeds one track; see seedTracks. */
export async function seedTrack(app: SeedTarget, libraryId: string, seed: TrackSeed): Promise<SeededTrack> {
  return (await seedTracks(app, libraryId, [seed]))[0]!;
}

interface Prepared {
  uploadId: string;
  libraryId: string;
  originalName: string;
  path: string;
  size: number;
  checksum: string;
  tags: TrackTags;
  coverHash: string | null;
}

/** The stored file and cover, and the tags the reader would have found. */
async function prepare(app: SeedTarget, libraryId: string, seed: TrackSeed): Promise<Prepared> {
  const uploadId = randomUUID();
  const format = seed.format ?? "mp3";
  const originalName = `${seed.name ?? first(seed.tags.TITLE) ?? uploadId}.${format}`;
  const data = seed.data ?? Buffer.from(`polyphony test audio ${uploadId}`);
  const relative = path.join("uploads", libraryId, `${uploadId}.${format}`);
  await mkdir(path.join(app.config.mediaDir, "uploads", libraryId), { recursive: true });
  await writeFile(path.join(app.config.mediaDir, relative), data);
  const coverHash = seed.cover ? (await processCover(seed.cover, path.join(app.config.mediaDir, "covers"))).hash : null;
  return {
    uploadId,
    libraryId,
    originalName,
    path: relative,
    size: data.byteLength,
    checksum: createHash("sha256").update(data).digest("hex"),
    tags: withFileNameTags(trackTags(seed.tags, FORMATS[format], seed.seconds ?? 1.5), originalName),
    coverHash,
  };
}

/** Vorbis-style tag values -> TrackTags, by the rules of core/media/tag-mapping.ts. */
function trackTags(tags: TagValues, facts: FormatFacts, seconds: number): TrackTags {
  const values = (key: string) => cleanList([tags[key] ?? []].flat());
  const text = (key: string) => cleanText(first(tags[key]));
  const number = (key: string) => (text(key) === null ? null : Number.parseInt(text(key)!, 10));
  const decibels = (key: string) => (text(key) === null ? null : Number.parseFloat(text(key)!));
  const albumArtists = artistCredits(text("ALBUMARTIST"), values("ALBUMARTISTS"), values("MUSICBRAINZ_ALBUMARTISTID"));
  const date = isoDate(text("DATE") ?? undefined);
  return {
    title: text("TITLE"),
    artists: artistCredits(text("ARTIST"), values("ARTISTS"), values("MUSICBRAINZ_ARTISTID")),
    albumArtists,
    album: text("ALBUM"),
    trackNumber: number("TRACKNUMBER"),
    trackTotal: number("TRACKTOTAL"),
    discNumber: number("DISCNUMBER"),
    discTotal: number("DISCTOTAL"),
    year: date ? Number(date.slice(0, 4)) : null,
    date,
    genres: genres(values("GENRE")),
    mbids: {
      recording: text("MUSICBRAINZ_TRACKID"),
      track: text("MUSICBRAINZ_RELEASETRACKID"),
      release: text("MUSICBRAINZ_ALBUMID"),
      releaseGroup: text("MUSICBRAINZ_RELEASEGROUPID"),
    },
    compilation: text("COMPILATION") === "1" || albumArtists.some((c) => c.mbid === VARIOUS_ARTISTS_MBID || c.name.toLowerCase() === "various artists"),
    durationSeconds: seconds,
    ...facts,
    replayGain: {
      trackGain: decibels("REPLAYGAIN_TRACK_GAIN"),
      trackPeak: decibels("REPLAYGAIN_TRACK_PEAK"),
      albumGain: decibels("REPLAYGAIN_ALBUM_GAIN"),
      albumPeak: decibels("REPLAYGAIN_ALBUM_PEAK"),
    },
    lyrics: lyricsFromText(text("LYRICS")),
    picture: null,
  };
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The upload's row after its import, as the importer's markFinished leaves it (core/library/importer.ts). */
async function markFinished(client: pg.PoolClient, item: Prepared, trackId: string): Promise<void> {
  const { tags } = item;
  await client.query(
    `UPDATE upload SET status = 'finished', track_id = $2, mtime = now(), mime_type = $3, duration_ms = $4, bitrate = $5,
       sample_rate = $6, bit_depth = $7, channels = $8, codec = $9, lossless = $10, replay_gain = $11, lyrics = $12,
       lyrics_synced = $13, imported_at = now(), updated_at = now()
     WHERE id = $1`,
    [item.uploadId, trackId, tags.mimeType, Math.round(tags.durationSeconds! * 1000), tags.bitrate, tags.sampleRate, tags.bitDepth,
      tags.channels, tags.codec, tags.lossless, JSON.stringify(tags.replayGain), tags.lyrics?.text ?? null, tags.lyrics?.synced ?? null],
  );
}
