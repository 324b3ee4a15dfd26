import { getLogger } from "../../config/logging.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { MAX_PLAYLIST_ITEMS } from "../playlists/playlist-entry.ts";
import { upsertRemoteLibrary } from "./follows.queries.ts";
import { signingKeyOf } from "./remote-actors.ts";
import { fetchDocument, idOf, type JsonObject, RemoteDocumentError, stringOf } from "./remote-documents.ts";
import { dropRemotePlaylist } from "./remote-playlists.ts";
import type { UploadsService } from "../library/uploads.service.ts";
import type { RemoteLibraryScanner } from "./remote-library-scan.ts";
import type { OutboundPolicy } from "./safe-fetch.ts";

// Reading a followed playlist (issue 17, point 1), signed as one of its accepted followers here: its
// `Playlist` document, then its `library` (the audio of its items) walked as any followed library is
// (RemoteLibraryScanner: the copies play through the remote playback path), then its pages of
// `PlaylistTrack` items, matched to what that scan filed (by Audio id, else by track id) and stored in
// order, replacing the items it had. Run on Accept and on each Update(Playlist): rescanning is the sync.

const log = getLogger(["polyphony", "fediverse", "remote-playlist"]);

const MAX_PAGES = 100;
const REQUEST_TIMEOUT_MS = 15_000;

export type PlaylistScanOutcome = { kind: "gone" | "no-follower" | "dropped" } | { kind: "finished"; libraryId: string };

interface ListedItem {
  index: number;
  trackFid: string | null;
  audioFid: string | null;
}

/** The document could not be read as the playlist it should be: it is left as it was. */
class PlaylistScanStopped extends Error {}

export class RemotePlaylistScanner {
  readonly #db: TransactionSource;
  readonly #policy: OutboundPolicy;
  readonly #libraries: Pick<RemoteLibraryScanner, "run">;
  readonly #uploads: UploadsService;

  constructor(deps: TransactionSource & { policy: OutboundPolicy; libraries: Pick<RemoteLibraryScanner, "run">; uploads: UploadsService }) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#policy = deps.policy;
    this.#libraries = deps.libraries;
    this.#uploads = deps.uploads;
  }

  /**
   * Scans remote playlist `playlistId`, signed as `requestedBy` while their follow is accepted, else as
   * its latest accepted follower. A playlist its server no longer serves (404, 410) is `dropped`: its
   * server deleted it or made it private.
   */
  async run(playlistId: string, requestedBy: string | null = null): Promise<PlaylistScanOutcome> {
    const { rows } = await this.#db.pool.query<{ fid: string; actor_id: string; signer_fid: string | null; signer_key: JsonWebKey | null }>(
      `SELECT p.fid, p.actor_id, s.fid AS signer_fid, s.rsa_private_jwk AS signer_key
       FROM playlist p LEFT JOIN LATERAL (
         SELECT a.fid, a.rsa_private_jwk FROM follow f JOIN actor a ON a.id = f.follower_id AND a.is_local JOIN app_user u ON u.actor_id = a.id
         WHERE f.playlist_id = p.id AND f.state = 'accepted' AND a.rsa_private_jwk IS NOT NULL AND u.disabled_at IS NULL
         ORDER BY (u.id = $2::uuid) DESC NULLS LAST, f.updated_at DESC LIMIT 1) s ON true
       WHERE p.id = $1 AND p.owner_id IS NULL`,
      [playlistId, requestedBy],
    );
    const playlist = rows[0];
    if (!playlist) return { kind: "gone" };
    if (!playlist.signer_fid || !playlist.signer_key) return { kind: "no-follower" };
    const signer = signingKeyOf({ fid: playlist.signer_fid, rsaPrivateJwk: playlist.signer_key });
    const get = (url: string) => fetchDocument(url, { policy: this.#policy, signer, timeoutMs: REQUEST_TIMEOUT_MS });

    let document: JsonObject;
    try {
      document = await get(playlist.fid);
    } catch (error) {
      if (!(error instanceof RemoteDocumentError && [404, 410].includes(error.status ?? 0))) throw error;
      await withTransaction(this.#db, ({ sql: tx }) => dropRemotePlaylist(tx, this.#uploads, playlistId));
      log.info("Remote playlist {playlist} is gone from its server (HTTP {status}): dropped", { playlist: playlist.fid, status: error.status });
      return { kind: "dropped" };
    }
    if (idOf(document.id) !== playlist.fid || !typesOf(document).includes("Playlist")) {
      throw new PlaylistScanStopped(`${playlist.fid} is not the playlist it was (its id or type changed)`);
    }
    const libraryFid = idOf(document.library);
    if (!libraryFid || new URL(libraryFid).origin !== new URL(playlist.fid).origin) {
      throw new PlaylistScanStopped(`The playlist ${playlist.fid} names no library of its server for its audio`);
    }
    const name = (stringOf(document.name) ?? "Untitled playlist").slice(0, 200);
    const libraryId = await withTransaction(this.#db, async ({ sql: tx }) => {
      const id = await upsertRemoteLibrary(tx, { fid: libraryFid, name, summary: stringOf(document.summary) }, playlist.actor_id);
      await tx.query("UPDATE playlist SET name = $2, description = $3, library_id = $4, updated_at = now() WHERE id = $1", [
        playlistId,
        name,
        (stringOf(document.summary) ?? "").slice(0, 5000),
        id,
      ]);
      return id;
    });
    // The audio first, so the items below find what they play.
    const scan = await this.#libraries.run(libraryId, { force: true });
    // Another scan of it runs (the daily one): the job is tried again later, not stored half-matched.
    if (scan.kind === "busy") throw new Error(`The library of playlist ${playlist.fid} is being scanned; the playlist is read again later`);
    if (scan.kind === "errored") log.warning("The library of playlist {playlist} was not read whole: {reason}", { playlist: playlist.fid, reason: scan.reason });
    const items = await this.#items(playlist.fid, document, get);
    await this.#store(playlistId, libraryId, items);
    log.info("Scanned remote playlist {playlist}: {count} items", { playlist: playlist.fid, count: items.length });
    return { kind: "finished", libraryId };
  }

  /** The pages' items, first -> next, on the playlist's server, in their `index` order. */
  async #items(fid: string, document: JsonObject, get: (url: string) => Promise<JsonObject>): Promise<ListedItem[]> {
    const origin = new URL(fid).origin;
    const items: ListedItem[] = [];
    const visited = new Set<string>();
    let page: JsonObject | null = isObject(document.first) ? document.first : null;
    let url = page ? idOf(page.id) : idOf(document.first);
    for (let n = 0; url; n++) {
      if (n >= MAX_PAGES || visited.has(url) || new URL(url).origin !== origin) throw new PlaylistScanStopped(`The pages of ${fid} loop, leave its server or are too many`);
      visited.add(url);
      page ??= await get(url);
      if (idOf(page.partOf) !== fid) throw new PlaylistScanStopped(`The page ${url} is not part of ${fid}`);
      const raw = page.items ?? page.orderedItems ?? [];
      for (const item of Array.isArray(raw) ? raw : [raw]) {
        if (!isObject(item)) continue;
        const index = Number.isSafeInteger(item.index) ? (item.index as number) : items.length;
        items.push({ index, trackFid: idOf(item.track), audioFid: idOf(item.audio) });
      }
      if (items.length > MAX_PLAYLIST_ITEMS) throw new PlaylistScanStopped(`${fid} lists more than ${MAX_PLAYLIST_ITEMS} items`);
      url = idOf(page.next);
      page = null;
    }
    return items.sort((a, b) => a.index - b.index);
  }

  /**
   * The items, in order, each as the track its Audio was filed under here (the playlist's library first),
   * else the track known by its id; an item matching neither is left out. Replaces the items it had.
   */
  async #store(playlistId: string, libraryId: string, items: ListedItem[]): Promise<void> {
    await withTransaction(this.#db, async ({ sql: tx }) => {
      const locked = await tx.query("SELECT 1 FROM playlist WHERE id = $1 AND owner_id IS NULL FOR UPDATE", [playlistId]);
      if (!locked.rowCount) return; // unfollowed meanwhile
      await tx.query("DELETE FROM playlist_item WHERE playlist_id = $1", [playlistId]);
      await tx.query(
        `INSERT INTO playlist_item (id, playlist_id, position, track_id, title, artist, album, duration_ms, mbid)
         SELECT gen_random_uuid(), $1, (row_number() OVER (ORDER BY x.o) - 1)::int, t.id, t.title,
                coalesce((SELECT string_agg(c.credited_name || c.join_phrase, '' ORDER BY c.position) FROM artist_credit c WHERE c.track_id = t.id), ar.name),
                al.title, m.duration_ms, t.mbid
         FROM jsonb_to_recordset($3::jsonb) AS x(o int, audio text, track text)
         CROSS JOIN LATERAL (
           (SELECT u.track_id AS id, u.duration_ms FROM upload u WHERE u.fid = x.audio AND u.track_id IS NOT NULL ORDER BY (u.library_id = $2) DESC LIMIT 1)
           UNION ALL (SELECT tr.id, NULL FROM track tr WHERE tr.fid = x.track)
           LIMIT 1) m
         JOIN track t ON t.id = m.id JOIN album al ON al.id = t.album_id JOIN artist ar ON ar.id = t.artist_id`,
        [playlistId, libraryId, JSON.stringify(items.map((item, o) => ({ o, audio: item.audioFid, track: item.trackFid })))],
      );
      await tx.query("UPDATE playlist SET last_scan_at = now(), updated_at = now() WHERE id = $1", [playlistId]);
    });
  }
}

const isObject = (value: unknown): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);

function typesOf(document: JsonObject): string[] {
  const type = document.type;
  return (Array.isArray(type) ? type : [type]).filter((t): t is string => typeof t === "string");
}
