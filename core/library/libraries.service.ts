import { randomUUID } from "node:crypto";
import path from "node:path";
import type { MikroORM } from "@mikro-orm/postgresql";
import type pg from "pg";
import type { ActorService } from "../accounts/actors.service.ts";
import type { User } from "../accounts/user.entity.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { Forbidden, NotFound } from "../errors.ts";
import { canSeeLibrary, followedLibrarySql, visibleLibrariesWhere } from "../catalog/catalog-read.ts";
import { LibrarySchema, type Library, type Privacy } from "./library.entity.ts";
import { checkMusicFolder } from "./music-folder.ts";
import { publishLibraryDeletion, publishLibraryUpdate } from "../fediverse/library-publications.ts";
import type { UploadsService } from "./uploads.service.ts";

export interface LibraryInput {
  name: string;
  description?: string;
  privacy?: Privacy;
  approveFollows?: boolean;
  musicFolder?: string | null;
}

/** Libraries: create, read with access rules, update, delete (with their stored files). */
export class LibrariesService {
  readonly #db: TransactionSource;
  readonly #orm: MikroORM;
  readonly #actors: ActorService;
  readonly #uploads: UploadsService;
  /** DATA_DIR and MEDIA_DIR: no music folder may touch them (music-folder.ts). */
  readonly #serverDirs: readonly string[];

  constructor(deps: { pool: pg.Pool; orm: MikroORM; actors: ActorService; uploads: UploadsService; serverDirs: readonly string[] }) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#orm = deps.orm;
    this.#actors = deps.actors;
    this.#uploads = deps.uploads;
    this.#serverDirs = deps.serverDirs;
  }

  async create(owner: User, input: LibraryInput): Promise<Library> {
    const musicFolder = await this.#checkMusicFolder(owner, input.musicFolder);
    return withTransaction(this.#db, async ({ em }) => {
      const id = randomUUID();
      const actor = await this.#actors.createLocal(em, {
        type: "Application",
        username: `lib.${id.replaceAll("-", "")}`,
        name: input.name,
        represents: "library",
      });
      return em.create(LibrarySchema, {
        id,
        owner: owner.id,
        actor,
        name: input.name,
        description: input.description ?? "",
        privacy: input.privacy ?? "private",
        approveFollows: input.approveFollows ?? true,
        musicFolder,
      });
    });
  }

  /** The library if `viewer` may see it; otherwise NotFound, never a hint that it exists. */
  async get(viewer: User | undefined, id: string): Promise<Library> {
    const library = await this.#orm.em.fork().findOne(LibrarySchema, { id }, { populate: ["actor"] });
    const followed = !!library && !library.owner && !!viewer && (await this.#followedIds(viewer, id)).length > 0;
    if (!library || !canSeeLibrary(viewer, library, followed)) throw new NotFound("library");
    return library;
  }

  /**
   * The remote libraries (all, or just `only`) the viewer follows with an accepted follow. A followed
   * playlist's library (the audio of its items) is not listed: the playlist stands for it.
   */
  async #followedIds(viewer: User, only?: string): Promise<string[]> {
    const { rows } = await this.#db.pool.query<{ id: string }>(
      `SELECT l.id FROM library l WHERE ($2::uuid IS NULL OR l.id = $2) AND ${followedLibrarySql("l", "$1")}
         AND ($2::uuid IS NOT NULL OR NOT EXISTS (SELECT 1 FROM playlist p WHERE p.library_id = l.id))`,
      [viewer.id, only ?? null],
    );
    return rows.map((row) => row.id);
  }

  /** Only the owner may change or delete; others get the same 404 as for a missing library. */
  async getOwned(owner: User, id: string): Promise<Library> {
    const library = await this.get(owner, id);
    if (library.owner?.id !== owner.id) throw new NotFound("library");
    return library;
  }

  async list(viewer: User, scope: "mine" | "visible"): Promise<Library[]> {
    const where =
      scope === "mine"
        ? { owner: viewer.id }
        : visibleLibrariesWhere(viewer, await this.#followedIds(viewer));
    return this.#orm.em.fork().find(LibrarySchema, where, { orderBy: { createdAt: "asc", id: "asc" }, populate: ["actor"] });
  }

  async update(owner: User, id: string, changes: Partial<LibraryInput>): Promise<Library> {
    const musicFolder = changes.musicFolder === undefined ? undefined : await this.#checkMusicFolder(owner, changes.musicFolder);
    return withTransaction(this.#db, async ({ em, sql }) => {
      const library = await em.findOne(LibrarySchema, { id, owner: owner.id }, { populate: ["actor"] });
      if (!library) throw new NotFound("library");
      if (musicFolder !== undefined) library.musicFolder = musicFolder;
      if (changes.name !== undefined) {
        library.name = changes.name;
        library.actor.name = changes.name; // the actor's display name follows the library's
      }
      if (changes.description !== undefined) library.description = changes.description;
      if (changes.privacy !== undefined) library.privacy = changes.privacy;
      if (changes.approveFollows !== undefined) library.approveFollows = changes.approveFollows;
      // Followers show the name and description, and read the privacy (Update(Library)).
      if (changes.name !== undefined || changes.description !== undefined || changes.privacy !== undefined) {
        await publishLibraryUpdate(sql, library.id);
      }
      return library;
    });
  }

  /**
   * Deletes the library, its uploads and the files we stored (never an in-place music folder's files).
   * Its actor stays as a tombstone, keys included, so the Delete telling its followers can be signed.
   */
  async delete(owner: User, id: string): Promise<void> {
    const library = await this.getOwned(owner, id);
    await withTransaction(this.#db, async ({ sql: tx }) => {
      // Locked first: an upload committing meanwhile is then among those deleted (its file with them), a
      // later one finds no library; a delete that ran beside this one leaves none to lock (a 404).
      const { rowCount } = await tx.query("SELECT 1 FROM library WHERE id = $1 FOR UPDATE", [library.id]);
      if (!rowCount) throw new NotFound("library");
      // Read the followers now: their follows go with the library. Queued before the uploads' Deletes,
      // which then find no follower left to tell (the Delete(Library) says it all).
      await publishLibraryDeletion(tx, library.id);
      await tx.query("DELETE FROM follow WHERE library_id = $1", [library.id]);
      await this.#uploads.deleteOfLibrary(library.id, tx);
      await tx.query("DELETE FROM library WHERE id = $1", [library.id]);
      await tx.query("UPDATE actor SET deleted_at = now(), updated_at = now() WHERE id = $1", [library.actor.id]);
    });
  }

  /** Reading a folder of the server is an operator's decision: admins only, absolute, existing, not our own data. */
  async #checkMusicFolder(owner: User, folder: string | null | undefined): Promise<string | null> {
    if (!folder) return null;
    if (owner.role !== "admin") throw new Forbidden("Only administrators can attach a server folder to a library");
    await checkMusicFolder(folder, this.#serverDirs);
    return path.resolve(folder);
  }
}
