import type { Federation } from "@fedify/fedify";
import { Note } from "@fedify/vocab";
import type pg from "pg";
import { announcementOf } from "../../core/fediverse/album-announcements.ts";
import { objectUrls } from "../../core/fediverse/object-urls.ts";
import { albumNote } from "../mappers/album-note.ts";

/** Where the posts to microblog followers live: Mastodon reads a Note again at its id (a boost, a search, a reply). */
export const NOTE_PATH = "/federation/notes/{id}";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A Note of a public library, rebuilt from the album as the library holds it now; 404 for the rest
 * (a library that is not public, whose Notes only its followers were sent; an upload gone).
 */
export function registerNoteDispatcher(federation: Federation<void>, deps: { pool: pg.Pool }): void {
  federation.setObjectDispatcher(Note, NOTE_PATH, async (ctx, values) => {
    if (!UUID.test(values.id)) return null;
    const announcement = await announcementOf(deps.pool, values.id);
    if (!announcement) return null;
    const ids = { note: ctx.getObjectUri(Note, values), actor: ctx.getActorUri(announcement.actorUsername) };
    return albumNote(announcement, ids, objectUrls(new URL(ctx.canonicalOrigin)));
  });
}
