import type pg from "pg";
import { getLogger } from "../../config/logging.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import type { UploadsService } from "../library/uploads.service.ts";
import type { SigningKey } from "./http-signatures.ts";
import { acceptedFollowersSql } from "./follows.queries.ts";
import { applyRemoteAudio, deleteRemoteAudios } from "./remote-catalog.ts";
import { signingKeyOf } from "./remote-actors.ts";
import { normalizeName } from "../library/normalize.ts";
import { fetchDocument, idOf, stringOf } from "./remote-documents.ts";
import type { OutboundPolicy } from "./safe-fetch.ts";

const log = getLogger(["polyphony", "fediverse", "library-sync"]);

const MUSIC_TABLES = {
  Track: { table: "track", column: "title" },
  Album: { table: "album", column: "title" },
  Artist: { table: "artist", column: "name" },
} as const;

/** A remote library the sender speaks for, followed here, with a follower to sign our reads as. */
interface SyncedLibrary {
  id: string;
  fid: string;
  signer: SigningKey;
}

/**
 * Live sync, inbound: Create/Update/Delete(Audio), Update(Library) and Delete(Library) from the actor that
 * speaks for a remote library we follow. Activities are trusted for what they name, never for what they
 * carry: each Audio is read again from its id with a GET signed as one of our followers (as a scan
 * reads it), and only the libraries the sender speaks for are touched. Applying twice changes nothing.
 */
export class LibrarySyncInbox {
  readonly #db: TransactionSource;
  readonly #policy: OutboundPolicy;
  readonly #uploads: UploadsService;
  readonly #mediaDir: string;

  constructor(deps: TransactionSource & { policy: OutboundPolicy; uploads: UploadsService; mediaDir: string }) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#policy = deps.policy;
    this.#uploads = deps.uploads;
    this.#mediaDir = deps.mediaDir;
  }

  /** The remote libraries `senderFid` speaks for that someone here follows (accepted), each with a signer. */
  async #librariesOf(senderFid: string): Promise<SyncedLibrary[]> {
    const { rows } = await this.#db.pool.query<{ id: string; fid: string; signer_fid: string; signer_key: JsonWebKey }>(
      `SELECT l.id, l.fid, signer.fid AS signer_fid, signer.rsa_private_jwk AS signer_key
       FROM library l JOIN actor sa ON sa.id = l.actor_id,
         LATERAL (SELECT a.fid, a.rsa_private_jwk FROM ${acceptedFollowersSql("l.id", "local")}
                  AND a.rsa_private_jwk IS NOT NULL ORDER BY f.updated_at DESC LIMIT 1) signer
       WHERE sa.fid = $1 AND l.owner_id IS NULL`,
      [senderFid],
    );
    return rows.map((r) => ({ id: r.id, fid: r.fid, signer: signingKeyOf({ fid: r.signer_fid, rsaPrivateJwk: r.signer_key }) }));
  }

  /** Create or Update of these Audio ids: each is read from its server and applied to its library. */
  async receiveAudio(senderFid: string, audioIds: string[]): Promise<void> {
    const libraries = await this.#librariesOf(senderFid);
    if (!libraries.length) return void log.info("Audio from {sender}, who speaks for no library followed here, ignored", { sender: senderFid });
    const origin = new URL(senderFid).origin;
    for (const audioId of audioIds) {
      if (new URL(audioId).origin !== origin) {
        log.warn("Audio {audio} from {sender} is on another server: ignored", { audio: audioId, sender: senderFid });
        continue;
      }
      const audio = await fetchDocument(audioId, { policy: this.#policy, signer: libraries[0]!.signer });
      const libraryFid = idOf(audio.library);
      const library = libraries.find((l) => l.fid === libraryFid) ?? (libraries.length === 1 && libraryFid === null ? libraries[0] : undefined);
      if (!library) {
        log.warn("Audio {audio} from {sender} names no library of theirs followed here ({library})", { audio: audioId, sender: senderFid, library: libraryFid });
        continue;
      }
      const outcome = await withTransaction(this.#db, ({ sql }) => applyRemoteAudio(sql, library.id, audio, { mediaDir: this.#mediaDir }));
      log.debug("Audio {audio} applied to library {library}: {outcome}", { audio: audioId, library: library.id, outcome });
    }
  }

  /** Delete of these ids: a library the sender speaks for (it goes, with its copies), or Audio of theirs. */
  async receiveDelete(senderFid: string, objectIds: string[]): Promise<void> {
    const libraries = await this.#librariesOf(senderFid);
    if (!libraries.length) return;
    await withTransaction(this.#db, async ({ sql }) => {
      const deletedLibraries = libraries.filter((l) => objectIds.includes(l.fid));
      for (const library of deletedLibraries) await this.#dropLibrary(sql, library.id);
      const audioIds = objectIds.filter((id) => !deletedLibraries.some((l) => l.fid === id));
      if (!audioIds.length) return;
      for (const library of libraries) if (!deletedLibraries.includes(library)) await deleteRemoteAudios(sql, this.#uploads, library.id, audioIds);
    });
  }

  /** Update(Library): its name and description read again from its document. */
  async receiveLibraryUpdate(senderFid: string, libraryFid: string): Promise<void> {
    const library = (await this.#librariesOf(senderFid)).find((l) => l.fid === libraryFid);
    if (!library) return;
    const document = await fetchDocument(libraryFid, { policy: this.#policy, signer: library.signer });
    const name = stringOf(document.name)?.slice(0, 200);
    if (!name) return;
    await this.#db.pool.query("UPDATE library SET name = $2, description = $3, updated_at = now() WHERE id = $1 AND owner_id IS NULL", [
      library.id,
      name,
      (stringOf(document.summary) ?? "").slice(0, 5000),
    ]);
  }

  /**
   * Update(Track|Album|Artist), sent by Funkwhale's service actor (funkwhale-federation.md §3.5): the
   * object is read again, signed as someone here who follows a library on that server, and accepted from
   * its attributedTo actor or from the service actor its server's NodeInfo names (metadata.actorId, kept
   * as domain.service_actor_id); a server whose NodeInfo named none (or was never read) has any of its
   * Service actors accepted in that role. Only its name is applied, to the
   * rows a scan made from it (their fid); rows matched to our own music keep our names.
   */
  async receiveMusicUpdate(senderFid: string, objectType: "Track" | "Album" | "Artist", objectFid: string): Promise<void> {
    const origin = new URL(senderFid).origin;
    if (new URL(objectFid).origin !== origin) return void log.warn("Update of {object} from {sender}, another server's: ignored", { object: objectFid, sender: senderFid });
    const { table, column } = MUSIC_TABLES[objectType];
    const known = await this.#db.pool.query(`SELECT 1 FROM ${table} WHERE fid = $1`, [objectFid]);
    if (!known.rowCount) return;
    const { rows } = await this.#db.pool.query<{ signer_fid: string; signer_key: JsonWebKey; sender_is_service: boolean }>(
      `SELECT a.fid AS signer_fid, a.rsa_private_jwk AS signer_key,
         (SELECT coalesce(d.service_actor_id = s.id, s.type = 'Service') FROM actor s LEFT JOIN domain d ON d.name = s.domain
           WHERE s.fid = $2) AS sender_is_service
       FROM library l JOIN actor la ON la.id = l.actor_id AND la.domain = $1, ${acceptedFollowersSql("l.id", "local")}
         AND a.rsa_private_jwk IS NOT NULL
       ORDER BY f.updated_at DESC LIMIT 1`,
      [new URL(origin).host, senderFid],
    );
    const row = rows[0];
    if (!row) return;
    const document = await fetchDocument(objectFid, { policy: this.#policy, signer: signingKeyOf({ fid: row.signer_fid, rsaPrivateJwk: row.signer_key }) });
    const speaksForIt = idOf(document.attributedTo) === senderFid || row.sender_is_service === true;
    if (!speaksForIt || stringOf(document.type) !== objectType || idOf(document.id) !== objectFid) {
      return void log.warn("Update of {object} from {sender}, who does not speak for it: ignored", { object: objectFid, sender: senderFid });
    }
    const name = stringOf(document.name)?.trim().slice(0, 1000);
    if (!name) return;
    await this.#db.pool.query(`UPDATE ${table} SET ${column} = $2, normalized_${column} = $3 WHERE fid = $1`, [objectFid, name, normalizeName(name)]);
  }

  async #dropLibrary(tx: pg.PoolClient, libraryId: string): Promise<void> {
    await this.#uploads.deleteOfLibrary(libraryId, tx);
    await tx.query("DELETE FROM library WHERE id = $1 AND owner_id IS NULL", [libraryId]);
    log.info("Remote library {library} was deleted by its server: dropped with its copies", { library: libraryId });
  }
}
