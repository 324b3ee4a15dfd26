import type pg from "pg";
import type { User } from "../accounts/user.entity.ts";
import type { Privacy } from "../library/library.entity.ts";
import { MAX_PLAYLIST_ITEMS, type PlaylistEntry } from "./playlist-entry.ts";
import { parsePlaylist, serializePlaylist, type PlaylistFile, type PlaylistFormat } from "./playlist-formats.ts";
import type { PlaylistRow, PlaylistsService } from "./playlists.service.ts";
import { resolveTracks, type TrackLinks, type Unmatched } from "./track-resolver.ts";

export interface ImportResult {
  playlist: PlaylistRow;
  matched: number;
  unmatched: { position: number; artist: string; title: string; reason: Unmatched }[];
}

/** Playlist files in and out: M3U8 and XSPF, resolved against the catalog the user may see. */
export class PlaylistFiles {
  readonly #pool: pg.Pool;
  readonly #playlists: PlaylistsService;
  readonly #links: TrackLinks;

  constructor(deps: { pool: pg.Pool; playlists: PlaylistsService; links: TrackLinks }) {
    this.#pool = deps.pool;
    this.#playlists = deps.playlists;
    this.#links = deps.links;
  }

  /**
   * Creates a playlist from a file. Every entry becomes an item, in the file's order: matched ones
   * point at their track, the others keep the file's title, artist and duration and are reported.
   */
  async import(owner: User, format: PlaylistFormat, text: string, options: { name?: string; privacy?: Privacy }): Promise<ImportResult> {
    const parsed = parsePlaylist(format, text);
    const resolved = await resolveTracks(this.#pool, owner.id, this.#links, parsed.entries);
    const name = options.name ?? parsed.name?.slice(0, 200) ?? "Imported playlist";
    const created = await this.#playlists.create(owner, { name, description: parsed.description ?? "", privacy: options.privacy });
    try {
      const items = parsed.entries.map((e, i) => ({ ...e, trackId: resolved[i]!.trackId }));
      if (items.length > 0) await this.#playlists.appendItems(owner, created.id, items);
    } catch (error) {
      // Items go in after the actor's transaction; a failure there must not leave a half playlist.
      await this.#playlists.delete(owner, created.id).catch(() => {});
      throw error;
    }
    const unmatched = resolved.flatMap((r, position) => {
      if (r.trackId !== null) return [];
      const { artist, title } = parsed.entries[position]!;
      return [{ position, artist, title, reason: r.reason }];
    });
    const playlist = await this.#playlists.get(owner, created.id);
    return { playlist, matched: parsed.entries.length - unmatched.length, unmatched };
  }

  /** The playlist as a file, as the viewer sees it: songs they may play point at our stream URLs. */
  async export(viewer: User | undefined, id: string, format: PlaylistFormat): Promise<PlaylistFile & { filename: string }> {
    const playlist = await this.#playlists.get(viewer, id);
    const rows = await this.#playlists.items(viewer, id, { limit: MAX_PLAYLIST_ITEMS, offset: 0 });
    const entries: PlaylistEntry[] = rows.map((r) => ({
      title: r.title,
      artist: r.artist,
      album: r.album,
      durationMs: r.duration_ms,
      mbid: r.mbid,
      location: r.track_id ? this.#links.urlOf(r.track_id) : null,
    }));
    const file = serializePlaylist(format, playlist, entries);
    const base = playlist.name.replace(/[\p{Cc}\\/:*?"<>|]+/gu, "_").trim() || "playlist";
    return { ...file, filename: `${base}.${file.extension}` };
  }
}
