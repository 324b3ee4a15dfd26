import type { Federation } from "@fedify/fedify";
import { Note } from "@fedify/vocab";
import type pg from "pg";
import { announcementOf } from "../../core/fediverse/album-announcements.ts";
import { objectUrls } from "../../core/fediverse/object-urls.ts";
import { playlistAnnouncementOf } from "../../core/fediverse/playlist-announcements.ts";
import { albumNote } from "../mappers/album-note.ts";
import { playlistNote } from "../mappers/playlist-note.ts";

/** Where the posts to microblog followers live: Mastodon reads a Note again at its id (a boost, a search, a reply). */
export const NOTE_PATH = "/federation/notes/{id}";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A Note of a public library (its id: an upload's) or of a public playlist (its id: a playlist item's),
 * rebuilt from what it announced as it is now; 404 for the rest (a library or playlist that is not
 * public, whose Notes only its followers were sent; an upload or item gone).
 */
export function registerNoteDispatcher(federation: Federation<void>, deps: { pool: pg.Pool }): void {
  federation.setObjectDispatcher(Note, NOTE_PATH, async (ctx, values) => {
    if (!UUID.test(values.id)) return null;
    const urls = objectUrls(new URL(ctx.canonicalOrigin));
    const album = await announcementOf(deps.pool, values.id);
    if (album) return albumNote(album, { note: ctx.getObjectUri(Note, values), actor: ctx.getActorUri(album.actorUsername) }, urls);
    const playlist = await playlistAnnouncementOf(deps.pool, values.id);
    if (playlist) return playlistNote(playlist, { note: ctx.getObjectUri(Note, values), actor: ctx.getActorUri(playlist.actorUsername) }, urls);
    return null;
  });
}
