import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { Invalid, NotFound, TooLarge } from "../errors.ts";
import { enqueueJob } from "../jobs/enqueue.ts";
import { isZip, unpackListenBrainzZip } from "./listen-export-zip.ts";
import { ListenHistoryService } from "./listen-history.service.ts";
import {
  detectListenFileFormat, lineError, listenFromLastfmCsv, listenFromListenBrainzExport, splitCsvLine, type ListenFileFormat,
} from "./listen-file-formats.ts";
import type { ListenSink, SubmittedListen } from "./listen-submission.ts";

export const IMPORT_LISTENS_TASK = "import_listens";
/** Listens handed to the sink per transaction, and per progress update. */
export const LISTEN_IMPORT_BATCH = 1000;
/** Bad lines kept with their reason (the count goes on past it). */
const MAX_KEPT_ERRORS = 100;
const HEAD_BYTES = 64 * 1024;

export interface ListenImportStatus {
  id: string;
  format: ListenFileFormat;
  filename: string;
  status: "queued" | "running" | "done" | "failed";
  /** Listens (lines or array entries) in the file; null until the job has counted them. */
  total: number | null;
  processed: number;
  accepted: number;
  duplicates: number;
  errorCount: number;
  /** The first bad lines: line number (array entry number for a JSON array) and why. */
  errors: { line: number; message: string }[];
  /** Listens per second so far. */
  rate: number | null;
  failure: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

interface Entry {
  line: number;
  parse: () => SubmittedListen;
}

const STATUS_COLUMNS = `id, format, filename, status, total, processed, accepted, duplicates, error_count, errors, failure,
  created_at, started_at, finished_at, extract(epoch FROM (coalesce(finished_at, now()) - started_at)) AS seconds`;

function toStatus(r: Record<string, unknown>): ListenImportStatus {
  const seconds = r.seconds === null ? null : Number(r.seconds);
  // Timestamps come as text or Date depending on the pool's type parsers.
  const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
  return {
    id: r.id as string,
    format: r.format as ListenFileFormat,
    filename: r.filename as string,
    status: r.status as ListenImportStatus["status"],
    total: r.total as number | null,
    processed: r.processed as number,
    accepted: r.accepted as number,
    duplicates: r.duplicates as number,
    errorCount: r.error_count as number,
    errors: r.errors as ListenImportStatus["errors"],
    rate: seconds && seconds > 0 ? Math.round(((r.processed as number) / seconds) * 10) / 10 : null,
    failure: r.failure as string | null,
    createdAt: iso(r.created_at)!,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  };
}

/**
 * Listen files brought by a person: stored, recorded and queued in one transaction (create), then fed
 * through the listen sink by the import_listens job (run) in batches, with progress on the row. The
 * sink's dedup makes a second import of the same file add nothing.
 */
export class ListenImportsService {
  readonly #db: TransactionSource;
  readonly #sink: ListenSink;
  readonly #dir: string;
  /** The largest listen file taken (LISTEN_IMPORT_MAX_MB; 200 MB holds about a million listens of an LB export). */
  readonly maxBytes: number;

  constructor(deps: { db: TransactionSource; sink: ListenSink; dataDir: string; maxBytes: number }) {
    this.#db = deps.db;
    this.maxBytes = deps.maxBytes;
    this.#sink = deps.sink;
    this.#dir = path.join(deps.dataDir, "listen-imports");
  }

  /** Stores the file, checks it is a listen file we read, and queues its import. */
  async create(userId: string, filename: string, stream: Readable & { truncated?: boolean }): Promise<ListenImportStatus> {
    await mkdir(this.#dir, { recursive: true });
    const id = randomUUID();
    const filePath = path.join(this.#dir, id);
    try {
      await pipeline(stream, createWriteStream(filePath));
      if (stream.truncated) {
        throw new TooLarge(`A listen file may be at most ${Math.round(this.maxBytes / 1024 / 1024)} MB`, "listen_file_too_large");
      }
      // A ListenBrainz export as it is downloaded (a zip): its listens files, unpacked, are JSON lines.
      if (isZip(await readHead(filePath))) {
        await unpackListenBrainzZip(filePath, `${filePath}.jsonl`, this.maxBytes);
        await rename(`${filePath}.jsonl`, filePath);
      }
      const format = detectListenFileFormat(await readHead(filePath));
      // A JSON array cut short (or not one at all) is told now, not after the job has read it.
      if (!format || (format === "listenbrainz-json" && !(await readTail(filePath)).trimEnd().endsWith("]"))) {
        throw new Invalid(
          "Not a listen file: send a ListenBrainz export (its zip, a JSON array or JSON lines) or a Last.fm scrobble CSV",
          undefined,
          "unknown_listen_file",
        );
      }
      await withTransaction(this.#db, async ({ sql }) => {
        await sql.query("INSERT INTO listen_import (id, user_id, format, filename, file_path) VALUES ($1, $2, $3, $4, $5)", [
          id, userId, format, filename.slice(0, 255), filePath,
        ]);
        await enqueueJob(sql, IMPORT_LISTENS_TASK, { importId: id }, { maxAttempts: 3, queueName: `listen-import:${userId}` });
      });
    } catch (error) {
      await rm(filePath, { force: true });
      await rm(`${filePath}.jsonl`, { force: true });
      throw error;
    }
    return this.status(userId, id);
  }

  /** One of the person's imports; someone else's is not found. */
  async status(userId: string, id: string): Promise<ListenImportStatus> {
    const { rows } = await this.#db.pool.query(
      `SELECT ${STATUS_COLUMNS} FROM listen_import WHERE user_id = $1 AND id::text = $2`, [userId, id],
    );
    if (!rows[0]) throw new NotFound("listen import");
    return toStatus(rows[0]);
  }

  /** The person's imports, newest first. */
  async list(userId: string): Promise<ListenImportStatus[]> {
    const { rows } = await this.#db.pool.query(
      `SELECT ${STATUS_COLUMNS} FROM listen_import WHERE user_id = $1 ORDER BY created_at DESC LIMIT 50`, [userId],
    );
    return rows.map(toStatus);
  }

  /**
   * The job: reads the file, hands its listens to the sink in batches of LISTEN_IMPORT_BATCH with source
   * `import`, and writes progress after each. A retry starts over: the sink drops what is already there.
   */
  async run(importId: string, lastAttempt: boolean): Promise<void> {
    const { rows } = await this.#db.pool.query(
      `UPDATE listen_import SET status = 'running', started_at = now(), processed = 0, accepted = 0, duplicates = 0,
         error_count = 0, errors = '[]', failure = NULL
       WHERE id = $1 AND status IN ('queued', 'running') RETURNING user_id, format, file_path`,
      [importId],
    );
    const job = rows[0];
    if (!job) return;
    const { user_id: userId, format, file_path: filePath } = job as { user_id: string; format: ListenFileFormat; file_path: string };
    try {
      const { total, entries } = await openEntries(filePath, format);
      await this.#db.pool.query("UPDATE listen_import SET total = $2 WHERE id = $1", [importId, total]);
      let batch: SubmittedListen[] = [];
      let errors: { line: number; message: string }[] = [];
      let newest = 0;
      const flush = async () => {
        const result = await this.#sink.submit(userId, batch, "import");
        await this.#db.pool.query(
          `UPDATE listen_import SET processed = processed + $2, accepted = accepted + $3, duplicates = duplicates + $4,
             error_count = error_count + $5,
             errors = CASE WHEN jsonb_array_length(errors) >= $6 THEN errors
                      ELSE errors || (SELECT coalesce(jsonb_agg(e), '[]') FROM (SELECT e FROM jsonb_array_elements($7::jsonb) e
                        LIMIT $6 - jsonb_array_length(errors)) kept) END
           WHERE id = $1`,
          [importId, batch.length + errors.length, result.accepted, result.duplicates, errors.length, MAX_KEPT_ERRORS, JSON.stringify(errors)],
        );
        batch = [];
        errors = [];
      };
      for await (const entry of entries) {
        try {
          const listen = entry.parse();
          batch.push(listen);
          newest = Math.max(newest, listen.listenedAt.getTime());
        } catch (error) {
          errors.push({ line: entry.line, message: lineError(error) });
        }
        if (batch.length + errors.length >= LISTEN_IMPORT_BATCH) await flush();
      }
      await flush();
      // A Last.fm history brought in moves ListenBrainz's import watermark for Last.fm (GET /1/latest-import).
      if (format.startsWith("lastfm") && newest) {
        await new ListenHistoryService({ pool: this.#db.pool }).setLatestImport(userId, "lastfm", Math.floor(newest / 1000));
      }
      await this.#db.pool.query("UPDATE listen_import SET status = 'done', finished_at = now() WHERE id = $1", [importId]);
      await rm(filePath, { force: true });
    } catch (error) {
      // A file we cannot read will not read better next time.
      if (!lastAttempt && !(error instanceof Invalid)) throw error;
      await this.#db.pool.query("UPDATE listen_import SET status = 'failed', finished_at = now(), failure = $2 WHERE id = $1", [
        importId, error instanceof Error ? error.message : String(error),
      ]);
      await rm(filePath, { force: true });
    }
  }
}

async function readHead(filePath: string): Promise<string> {
  const file = await open(filePath, "r");
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await file.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await file.close();
  }
}

async function readTail(filePath: string): Promise<string> {
  const file = await open(filePath, "r");
  try {
    const { size } = await file.stat();
    const length = Math.min(size, 1024);
    const buffer = Buffer.alloc(length);
    await file.read(buffer, 0, length, size - length);
    return buffer.toString("utf8");
  } finally {
    await file.close();
  }
}

function lines(filePath: string) {
  return createInterface({ input: createReadStream(filePath, { encoding: "utf8" }), crlfDelay: Infinity });
}

/**
 * The file's listens, each with its line (or array entry) number, parsed only when asked, and how many
 * there are. A JSON array is read whole (at most LISTEN_IMPORT_MAX_MB); JSON lines and CSV are
 * streamed, counted by a first pass.
 */
async function openEntries(filePath: string, format: ListenFileFormat): Promise<{ total: number; entries: AsyncIterable<Entry> }> {
  if (format === "listenbrainz-json") {
    const items = parseArray(await readFile(filePath, "utf8"));
    const entries = items.map((item, i): Entry => ({ line: i + 1, parse: () => listenFromListenBrainzExport(item) }));
    return { total: items.length, entries: (async function* () { yield* entries; })() };
  }
  let total = 0;
  for await (const line of lines(filePath)) if (line.trim()) total++;
  return { total: format === "lastfm-csv-header" ? Math.max(total - 1, 0) : total, entries: textEntries(filePath, format) };
}

async function* textEntries(filePath: string, format: Exclude<ListenFileFormat, "listenbrainz-json">): AsyncGenerator<Entry> {
  let n = 0;
  for await (const raw of lines(filePath)) {
    n++;
    const text = n === 1 ? raw.replace(/^\uFEFF/, "") : raw;
    if (!text.trim() || (n === 1 && format === "lastfm-csv-header")) continue;
    yield {
      line: n,
      parse: format === "listenbrainz-jsonl"
        ? () => listenFromListenBrainzExport(JSON.parse(text))
        : () => listenFromLastfmCsv(splitCsvLine(text), format),
    };
  }
}

function parseArray(text: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new Invalid(`The file is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) throw new Invalid("The file is not a JSON array of listens");
  return value;
}
