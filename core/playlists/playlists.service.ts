import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import type pg from "pg";
import type { ActorService } from "../accounts/actors.service.ts";
import type { User } from "../accounts/user.entity.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { Conflict, Forbidden, Invalid, NotFound } from "../errors.ts";
import {
  publishPlaylistAdditions,
  publishPlaylistNoteDeletions,
  publishPlaylistProfile,
  publishPlaylistRemoval,
  publishPlaylistUpdate,
} from "../fediverse/playlist-publications.ts";
import type { Queryable } from "../jobs/enqueue.ts";
import { followedPlaylistSql, visiblePlaylistsSql } from "../catalog/catalog-read.ts";
import type { Privacy } from "../library/library.entity.ts";
import { MAX_PLAYLIST_ITEMS } from "./playlist-entry.ts";
import * as items from "./playlist-items.ts";
import type { NewItem, PlaylistItemRow } from "./playlist-items.ts";
import { smartItems, smartTotals, totalsOf } from "./smart-playlist.queries.ts";
import type { SmartRules } from "./smart-rules.ts";

export interface PlaylistInput {
  name: string;
  description?: string;
  privacy?: Privacy;
  /** A smart playlist's rules (validated: smart-rules.ts); its tracks come from them, never from edits. */
  rules?: SmartRules;
}

export interface PlaylistRow {
  id: string;
  /** Null for a playlist followed on another server (read-only here). */
  owner_id: string | null;
  /** The owner's username; a followed playlist's: its owner's handle (user@host), else its actor's. */
  owner_username: string;
  /** A followed playlist's ActivityPub id; null for ours. */
  fid: string | null;
  actor_fid: string;
  name: string;
  description: string;
  privacy: Privacy;
  /** Null for an ordinary playlist. */
  rules: SmartRules | null;
  item_count: number;
  duration_ms: string;
  created_at: string;
  updated_at: string;
}

export interface Page {
  limit: number;
  offset: number;
}

const visible = visiblePlaylistsSql;

const SELECT_PLAYLIST = `SELECT p.id, p.owner_id, p.fid, a.fid AS actor_fid, p.name, p.description, p.privacy, p.rules, p.created_at, p.updated_at,
    coalesce(o.username, ro.username || '@' || ro.domain, a.username || '@' || a.domain) AS owner_username, s.item_count, s.duration_ms
  FROM playlist p JOIN actor a ON a.id = p.actor_id LEFT JOIN app_user o ON o.id = p.owner_id LEFT JOIN actor ro ON ro.id = p.remote_owner_id
  CROSS JOIN LATERAL (SELECT count(*)::int AS item_count, coalesce(sum(i.duration_ms), 0)::bigint AS duration_ms
                      FROM playlist_item i WHERE i.playlist_id = p.id) s`;

/**
 * Playlists: each with its own ActivityPub actor, items kept in a dense order (0..n-1) by edits that
 * lock the playlist row first. Others' private playlists, and every write to others' playlists,
 * answer NotFound exactly like a missing one. A smart playlist (with rules) keeps no items: its tracks
 * are evaluated on each read (smart-playlist.queries.ts), it stays private to its owner, and it is
 * never published to other servers.
 */
export class PlaylistsService {
  readonly #db: TransactionSource;
  readonly #pool: pg.Pool;
  readonly #actors: ActorService;

  constructor(deps: { pool: pg.Pool; orm: MikroORM; actors: ActorService }) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#pool = deps.pool;
    this.#actors = deps.actors;
  }

  /** The actor (with its key pairs) and the playlist row commit together. */
  async create(owner: User, input: PlaylistInput): Promise<PlaylistRow> {
    if (input.rules) assertSmartPrivacy(input.privacy);
    const id = randomUUID();
    await withTransaction(this.#db, async (tx) => {
      const actor = await this.#actors.createLocal(tx.em, {
        type: "Application",
        username: `pl.${id.replaceAll("-", "")}`,
        name: input.name,
        represents: "playlist",
      });
      await tx.em.flush();
      await tx.sql.query("INSERT INTO playlist (id, owner_id, actor_id, name, description, privacy, rules) VALUES ($1, $2, $3, $4, $5, $6, $7)", [
        id,
        owner.id,
        actor.id,
        input.name,
        input.description ?? "",
        input.privacy ?? "private",
        input.rules ? JSON.stringify(input.rules) : null,
      ]);
    });
    return this.get(owner, id);
  }

  /** NotFound, listing them, when any of the tracks is missing or hidden from the user. */
  assertVisibleTracks(user: Pick<User, "id">, trackIds: string[]): Promise<void> {
    return assertVisibleTracks(this.#pool, user, trackIds);
  }

  async get(viewer: User | undefined, id: string): Promise<PlaylistRow> {
    return this.#withSmartTotals(await this.#row(viewer, id));
  }

  async #row(viewer: User | undefined, id: string): Promise<PlaylistRow> {
    const { rows } = await this.#pool.query<PlaylistRow>(`${SELECT_PLAYLIST} WHERE p.id = $1 AND ${visible("p", "$2")}`, [
      id,
      viewer?.id ?? null,
    ]);
    if (!rows[0]) throw new NotFound("playlist");
    return rows[0];
  }

  /** A playlist the viewer may see and a page of its items; a smart playlist's rules are evaluated once for both. */
  async withItems(viewer: User | undefined, id: string, page: Page): Promise<{ playlist: PlaylistRow; items: PlaylistItemRow[] }> {
    const playlist = await this.#row(viewer, id);
    if (playlist.rules && playlist.owner_id) {
      const all = await smartItems(this.#pool, playlist.owner_id, playlist.rules, playlist.id);
      return { playlist: { ...playlist, ...totalsOf(all) }, items: all.slice(page.offset, page.offset + page.limit) };
    }
    return { playlist, items: await items.listItems(this.#pool, playlist.id, viewer?.id ?? null, page) };
  }

  /** A smart playlist's count and duration are those of its tracks now. */
  async #withSmartTotals(row: PlaylistRow): Promise<PlaylistRow> {
    if (!row.rules || !row.owner_id) return row;
    return { ...row, ...(await smartTotals(this.#pool, row.owner_id, row.rules, row.id)) };
  }

  async list(viewer: User, scope: "mine" | "visible", page: Page): Promise<{ items: PlaylistRow[]; total: number }> {
    // Theirs: those they own, and those they follow on other servers.
    const where = scope === "mine" ? `(p.owner_id = $1 OR ${followedPlaylistSql("p", "$1")})` : visible("p", "$1");
    const total = await this.#pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM playlist p WHERE ${where}`, [viewer.id]);
    const { rows } = await this.#pool.query<PlaylistRow>(
      `${SELECT_PLAYLIST} WHERE ${where} ORDER BY p.created_at, p.id LIMIT $2 OFFSET $3`,
      [viewer.id, page.limit, page.offset],
    );
    return { items: await Promise.all(rows.map((row) => this.#withSmartTotals(row))), total: total.rows[0]!.n };
  }

  /** Rules change only a smart playlist's (an ordinary one keeps its items: Conflict). */
  async update(owner: User, id: string, changes: Partial<PlaylistInput>): Promise<PlaylistRow> {
    await withTransaction(this.#db, async ({ sql: client }) => {
      const found = await client.query<{ smart: boolean }>(
        "SELECT rules IS NOT NULL AS smart FROM playlist WHERE id = $1 AND owner_id = $2 FOR UPDATE",
        [id, owner.id],
      );
      if (!found.rows[0]) throw await this.#notOwned(owner, id);
      if (found.rows[0].smart) assertSmartPrivacy(changes.privacy);
      else if (changes.rules) throw new Conflict("This playlist is not a smart one: its tracks are chosen by hand", "not_smart");
      const { rows } = await client.query<{ privacy: Privacy }>(
        `UPDATE playlist SET name = coalesce($3, name), description = coalesce($4, description),
           privacy = coalesce($5, privacy), rules = coalesce($6::jsonb, rules), updated_at = now()
         WHERE id = $1 AND owner_id = $2 RETURNING privacy`,
        [id, owner.id, changes.name ?? null, changes.description ?? null, changes.privacy ?? null, changes.rules ? JSON.stringify(changes.rules) : null],
      );
      // Followers elsewhere: made private, it is gone for them; else they read it again.
      if (rows[0]!.privacy === "private") await publishPlaylistRemoval(client, id);
      else {
        await publishPlaylistUpdate(client, id);
        await publishPlaylistProfile(client, id);
      }
      // The actor's display name follows the playlist's.
      if (changes.name !== undefined) {
        await client.query("UPDATE actor SET name = $2, updated_at = now() FROM playlist p WHERE p.id = $1 AND actor.id = p.actor_id", [
          id,
          changes.name,
        ]);
      }
    });
    return this.get(owner, id);
  }

  /** The playlist and its items, in one transaction; its actor stays as a tombstone (as a library's does). */
  async delete(owner: User, id: string): Promise<void> {
    await withTransaction(this.#db, async ({ sql: client }) => {
      const owned = await client.query("SELECT 1 FROM playlist WHERE id = $1 AND owner_id = $2 FOR UPDATE", [id, owner.id]);
      if (!owned.rowCount) throw await this.#notOwned(owner, id);
      await publishPlaylistRemoval(client, id);
      const { rows } = await client.query<{ actor_id: string }>(
        "DELETE FROM playlist WHERE id = $1 AND owner_id = $2 RETURNING actor_id",
        [id, owner.id],
      );
      await client.query("UPDATE actor SET deleted_at = now(), updated_at = now() WHERE id = $1", [rows[0]!.actor_id]);
    });
  }

  /** A page of the items of a playlist the viewer may see. */
  async items(viewer: User | undefined, id: string, page: Page): Promise<PlaylistItemRow[]> {
    return (await this.withItems(viewer, id, page)).items;
  }

  /**
   * Adds tracks the owner may see at `position` (default: the end; past the end appends), in the order
   * given, duplicates included. Returns the new items.
   */
  async addTracks(owner: User, id: string, trackIds: string[], position?: number): Promise<PlaylistItemRow[]> {
    return this.#edit(owner, id, async (client) => {
      await assertVisibleTracks(client, owner, trackIds);
      return this.#insert(client, owner, id, trackIds.map((trackId) => ({ trackId })), position);
    });
  }

  /** Replaces every item with these tracks, all or nothing (a track the owner cannot see changes nothing). */
  async replaceTracks(owner: User, id: string, trackIds: string[]): Promise<void> {
    await this.#edit(owner, id, async (client) => {
      await assertVisibleTracks(client, owner, trackIds);
      await client.query("DELETE FROM playlist_item WHERE playlist_id = $1", [id]);
      if (trackIds.length) await this.#insert(client, owner, id, trackIds.map((trackId) => ({ trackId })));
    });
  }

  /** Appends tracks or snapshots (from a playlist file); tracks the owner may not see stay snapshots. */
  async appendItems(owner: User, id: string, newItems: NewItem[]): Promise<PlaylistItemRow[]> {
    return this.#edit(owner, id, (client) => this.#insert(client, owner, id, newItems));
  }

  async #insert(client: pg.PoolClient, owner: User, id: string, newItems: NewItem[], position?: number): Promise<PlaylistItemRow[]> {
    const count = await items.countItems(client, id);
    if (count + newItems.length > MAX_PLAYLIST_ITEMS) {
      throw new Conflict(`A playlist holds at most ${MAX_PLAYLIST_ITEMS} items`, "playlist_full");
    }
    const at = Math.min(position ?? count, count);
    await items.insertItems(client, id, owner.id, at, newItems);
    const added = await items.listItems(client, id, owner.id, { limit: newItems.length, offset: at });
    // Microblog followers see a post of what was added (library peers read the playlist again: #edit).
    await publishPlaylistAdditions(client, id, added.map((item) => item.id));
    return added;
  }

  async removeItem(owner: User, id: string, itemId: string): Promise<void> {
    await this.#edit(owner, id, async (client) => {
      if (!(await items.removeItem(client, id, itemId))) throw new NotFound("playlist item");
    });
  }

  /** Moves an item (past the end: to the end); returns it at its new place. */
  async moveItem(owner: User, id: string, itemId: string, position: number): Promise<PlaylistItemRow> {
    return this.#edit(owner, id, async (client) => {
      const to = await items.moveItem(client, id, itemId, position);
      if (to === null) throw new NotFound("playlist item");
      return (await items.listItems(client, id, owner.id, { limit: 1, offset: to }))[0]!;
    });
  }

  async clear(owner: User, id: string): Promise<void> {
    await this.#edit(owner, id, (client) => client.query("DELETE FROM playlist_item WHERE playlist_id = $1", [id]));
  }

  /**
   * Runs an edit of the owner's playlist in a transaction holding the playlist row's lock, so
   * concurrent edits take turns and positions stay dense.
   */
  async #edit<T>(owner: User, id: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.#db, async ({ sql: client }) => {
      const { rows } = await client.query<{ smart: boolean }>(
        "SELECT rules IS NOT NULL AS smart FROM playlist WHERE id = $1 AND owner_id = $2 FOR UPDATE",
        [id, owner.id],
      );
      if (!rows[0]) throw await this.#notOwned(owner, id);
      if (rows[0].smart) {
        throw new Forbidden("A smart playlist's tracks come from its rules: change the rules, not the items", "smart_playlist");
      }
      const result = await work(client);
      await client.query("UPDATE playlist SET updated_at = now() WHERE id = $1", [id]);
      await publishPlaylistUpdate(client, id);
      await publishPlaylistNoteDeletions(client, id);
      return result;
    });
  }

  /**
   * Why a write found no playlist of this owner: a playlist followed from another server that they may
   * see is read-only (Forbidden, said plainly); anything else answers like a missing one.
   */
  async #notOwned(viewer: User, id: string): Promise<Error> {
    const { rowCount } = await this.#pool.query(`SELECT 1 FROM playlist p WHERE p.id = $1 AND p.owner_id IS NULL AND ${visible("p", "$2")}`, [
      id,
      viewer.id,
    ]);
    return rowCount
      ? new Forbidden("This playlist is followed from another server: it is read-only here; its owner edits it on their server", "read_only")
      : new NotFound("playlist");
  }
}

/** NotFound, listing them, when any of the tracks is missing or hidden from the owner. */
export async function assertVisibleTracks(db: Queryable, owner: Pick<User, "id">, trackIds: string[]): Promise<void> {
  const missing = await items.invisibleTracks(db, owner.id, trackIds);
  if (missing.length > 0) throw new NotFound("track", { trackIds: missing });
}

/** A smart playlist is its owner's alone: what it holds depends on what they may see and have rated. */
function assertSmartPrivacy(privacy: Privacy | undefined): void {
  if (privacy !== undefined && privacy !== "private") {
    throw new Invalid("A smart playlist stays private to its owner", [{ path: "privacy", message: "A smart playlist is private" }], "smart_playlist_private");
  }
}
