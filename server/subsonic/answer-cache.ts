import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gzip, gzipSync } from "node:zlib";
import type { Request, Response } from "express";
import type { SubsonicUser } from "../../core/subsonic/credentials.service.ts";
import type { Params } from "./params.ts";
import { keepRecent } from "./recently-used.ts";
import { render, type Elem, type Format } from "./response.ts";

// Subsonic clients ask the same things again and again (the artist list on every start, the newest
// albums, the album on screen, a search as it is typed), each answer costing several queries. An answer
// is kept as bytes with the version read along with the caller's credentials (migration 0011: the
// catalog generation, moved by any change to what an answer shows, and the caller's own stars, ratings
// and plays counter), and reused only for the same user, question and version. A change moves a counter,
// so a kept answer is never stale, and nobody is ever given an answer made for someone else.

const ALBUM_LIST_PARAMS = ["type", "size", "offset", "fromYear", "toYear", "genre", "musicFolderId"];
const SEARCH_PARAMS = ["query", "musicFolderId", ...["artist", "album", "song"].flatMap((kind) => [`${kind}Count`, `${kind}Offset`])];

/**
 * Read-only methods whose answer depends only on the catalog, the libraries the caller sees and their
 * own stars, ratings and plays, each with the parameters its handler reads (the first value of each):
 * only those make the question, so junk parameters neither make new keys nor get past kept answers.
 */
const KEPT_METHODS = new Map<string, readonly string[]>(Object.entries({
  getMusicFolders: [], getIndexes: ["musicFolderId", "ifModifiedSince"], getMusicDirectory: ["id"],
  getArtists: ["musicFolderId"], getArtist: ["id"], getAlbum: ["id"], getSong: ["id"],
  getAlbumList: ALBUM_LIST_PARAMS, getAlbumList2: ALBUM_LIST_PARAMS, getGenres: [],
  getSongsByGenre: ["genre", "count", "offset", "musicFolderId"],
  search2: SEARCH_PARAMS, search3: SEARCH_PARAMS, getStarred: [], getStarred2: [],
  getArtistInfo: ["id", "count"], getArtistInfo2: ["id", "count"], getAlbumInfo: ["id"], getAlbumInfo2: ["id"],
  getLyrics: ["artist", "title"], getLyricsBySongId: ["id"],
}));
/** Kept answers' bytes (with their keys') at most, oldest use first out. getArtists at 5,000 artists is ~1 MB. */
const MAX_BYTES = 64 * 1024 * 1024;

/**
 * Answers smaller than this (an album of ten songs is ~8 KB) are sent as they are. Gzipping one costs
 * ~50 µs alone but ~0.2 ms of the event loop under load (bench:subsonic getAlbum, perf): every zlib
 * stream zeroes its fresh window, and those pages fault in anew each time. A few KB more on the wire
 * is the better trade for a server whose clients sync every album.
 */
export const GZIP_FROM_BYTES = 16 * 1024;
/**
 * Answers smaller than this are gzipped on the event loop: zlib's thread pool costs four times that
 * CPU in handles and hand-overs. Larger ones go there (getArtists: ~5 ms).
 */
const GZIP_IN_LINE_BELOW = 64 * 1024;
/**
 * Level 3 is ~35% faster than level 6, its bytes ~4% larger. An 8 KB window and a smaller hash make
 * zlib's state ~70 KB instead of ~270 (fewer fresh pages to fault in) for a few % more bytes at 34 KB.
 */
const IN_LINE_GZIP = { level: 3, windowBits: 13, memLevel: 6 };
const gzipped = promisify(gzip);

export interface KeptAnswer {
  type: string;
  body: Buffer;
  /** Computed once: Express would hash the body again on every request. */
  etag: string;
  /** The body gzipped, made on the first request that accepts it, then kept. */
  gzip?: Promise<Buffer>;
  /** Set by the cache that keeps this answer: told the gzipped copy's size, which it counts too. */
  counted?: (bytes: number) => void;
}

export function keptAnswer(format: Format, payload: Elem): KeptAnswer {
  const { type, text } = render(format, payload);
  const body = Buffer.from(text);
  return { type, body, etag: createHash("sha1").update(body).digest("base64url") };
}

/**
 * Sends a kept answer, gzipped when the client accepts it (Subsonic apps do; getArtists is ~1 MB at
 * 5,000 artists, ~10% of that gzipped), with an ETag of its own per encoding (a 304 when it matches).
 */
export async function sendKept(req: Request, res: Response, kept: KeptAnswer): Promise<void> {
  res.status(200).type(kept.type).vary("Accept-Encoding");
  if (kept.body.length < GZIP_FROM_BYTES || !req.acceptsEncodings("gzip")) {
    res.set("ETag", `"${kept.etag}"`).send(kept.body);
    return;
  }
  if (!kept.gzip) {
    kept.gzip = kept.body.length < GZIP_IN_LINE_BELOW ? Promise.resolve(gzipSync(kept.body, IN_LINE_GZIP)) : gzipped(kept.body);
    kept.gzip.then((gzip) => kept.counted?.(gzip.length), () => {});
  }
  const body = await kept.gzip;
  res.set({ "ETag": `"${kept.etag}-gzip"`, "Content-Encoding": "gzip" }).send(body);
}

export class AnswerCache {
  readonly #answers = new Map<string, Promise<KeptAnswer>>();
  readonly #sizes = new Map<string, number>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(maxBytes = MAX_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /**
   * The key of this question and the parameters its answer is made from (those in the key, and only
   * those), or undefined when its answer must be made afresh (writes, random lists, live state).
   */
  question(method: string, params: Params, format: Format, user: SubsonicUser): { key: string; params: Params } | undefined {
    const names = KEPT_METHODS.get(method);
    if (!names) return undefined;
    if ((method === "getAlbumList" || method === "getAlbumList2") && params.get("type") === "random") return undefined;
    const shape = format.kind === "jsonp" ? `jsonp:${format.callback}` : format.kind;
    const asked = JSON.stringify(names.map((name) => params.get(name) ?? null));
    return { key: `${user.id}|${user.answerVersion}|${shape}|${method}|${asked}`, params: params.only(names) };
  }

  /**
   * The kept answer for `key`, or the one `make` makes (kept once made). Requests asking the same at
   * the same time share one making; a failure (an error answer) is not kept.
   */
  answer(key: string, make: () => Promise<KeptAnswer>): Promise<KeptAnswer> {
    const kept = this.#answers.get(key);
    if (kept) return keepRecent(this.#answers, key, kept);
    const made = keepRecent(this.#answers, key, make());
    made.then(
      // A key costs its length too: a long `query` kept for a tiny answer must not escape the budget.
      (answer) => {
        this.#account(key, made, answer.body.length + Buffer.byteLength(key));
        answer.counted = (bytes) => this.#account(key, made, bytes);
      },
      () => this.#answers.get(key) === made && this.#answers.delete(key),
    );
    return made;
  }

  /** Adds `size` bytes to what `key`'s answer costs (its body and key, later its gzipped copy), then evicts. */
  #account(key: string, made: Promise<KeptAnswer>, size: number): void {
    if (this.#answers.get(key) !== made) return;
    this.#sizes.set(key, (this.#sizes.get(key) ?? 0) + size);
    this.#bytes += size;
    for (const oldest of this.#answers.keys()) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#drop(oldest);
    }
  }

  #drop(key: string): void {
    this.#answers.delete(key);
    this.#bytes -= this.#sizes.get(key) ?? 0;
    this.#sizes.delete(key);
  }
}
