import { getLogger } from "../../config/logging.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import type { UploadsService } from "../library/uploads.service.ts";
import { dropRemotePlaylist, enqueueRemotePlaylistScan } from "./remote-playlists.ts";

const log = getLogger(["polyphony", "fediverse", "playlist-sync"]);

/**
 * Live sync of followed playlists, inbound: Update(Playlist) queues a rescan (what it carries is never
 * trusted: the playlist is read again, signed as a follower), Delete(Playlist) drops it here. Accepted
 * from an actor of the playlist's own server (its owner signs them: the playlist's own actor answers
 * 404 once the playlist is private, and Funkwhale 2.0 sends them from the owner).
 */
export class PlaylistSyncInbox {
  readonly #db: TransactionSource;
  readonly #uploads: UploadsService;

  constructor(deps: TransactionSource & { uploads: UploadsService }) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#uploads = deps.uploads;
  }

  /** The followed remote playlists among `objectIds` that `senderFid`'s server holds. */
  async #playlists(senderFid: string, objectIds: string[]): Promise<string[]> {
    const origin = new URL(senderFid).origin;
    const ids = objectIds.filter((id) => URL.canParse(id) && new URL(id).origin === origin);
    if (!ids.length) return [];
    const { rows } = await this.#db.pool.query<{ id: string }>("SELECT id FROM playlist WHERE fid = ANY($1::text[]) AND owner_id IS NULL", [ids]);
    return rows.map((r) => r.id);
  }

  /** Update of these ids: each followed playlist among them is read again. True when one was. */
  async receiveUpdate(senderFid: string, objectIds: string[]): Promise<boolean> {
    const playlists = await this.#playlists(senderFid, objectIds);
    for (const id of playlists) await enqueueRemotePlaylistScan(this.#db.pool, id);
    if (playlists.length) log.debug("Update of {count} followed playlists from {sender}: rescans queued", { count: playlists.length, sender: senderFid });
    return playlists.length > 0;
  }

  /** Delete of these ids: each followed playlist among them goes, with its follows and what only it held. */
  async receiveDelete(senderFid: string, objectIds: string[]): Promise<boolean> {
    const playlists = await this.#playlists(senderFid, objectIds);
    for (const id of playlists) await withTransaction(this.#db, ({ sql: tx }) => dropRemotePlaylist(tx, this.#uploads, id));
    if (playlists.length) log.info("{count} followed playlists deleted by {sender}: dropped", { count: playlists.length, sender: senderFid });
    return playlists.length > 0;
  }
}
