import { randomUUID } from "node:crypto";
import type { Federation } from "@fedify/fedify";
import { Collection, Delete, Update } from "@fedify/vocab";
import type { Task } from "graphile-worker";
import type pg from "pg";
import { objectUrls } from "../../core/fediverse/object-urls.ts";
import { playlistAudience, type PlaylistPublication } from "../../core/fediverse/playlist-publications.ts";
import { sendActorDeletion } from "../../federation/outbox/actor-deletion.ts";
import { sendNoteDeletions } from "../../federation/outbox/note-deletions.ts";
import { sendPlaylistNote } from "../../federation/outbox/playlist-notes.ts";
import { sendProfileUpdate } from "../../federation/outbox/profile-update.ts";
import { asRecipient } from "../../federation/outbox/recipients.ts";

/**
 * Tells a local playlist's followers elsewhere that it changed (Update: read it again) or is gone
 * (Delete), as core/fediverse/playlist-publications.ts queued it. The owner's Person actor signs, as
 * Funkwhale 2.0 sends playlist activities: the playlist's own actor answers 404 once it is private. The
 * object is the Playlist collection by id (a Collection to Fedify, which has no Playlist type). Microblog
 * followers get, from the playlist's actor, a post for the items an edit added, its Delete once the item
 * naming it is removed, and Delete of the actor.
 */
export function publishPlaylistTask(deps: { federation: Federation<void>; pool: pg.Pool; publicUrl: URL }): Task {
  const urls = objectUrls(deps.publicUrl);
  return async (payload) => {
    const publication = payload as PlaylistPublication;
    const ctx = deps.federation.createContext(deps.publicUrl, undefined);
    if (publication.kind === "notes") {
      await sendPlaylistNote(ctx, deps.pool, publication.playlistId, publication.itemIds, publication.added);
      return;
    }
    if (publication.kind === "note-deletions") {
      const { rows } = await deps.pool.query<{ username: string }>(
        "SELECT pa.username FROM playlist p JOIN actor pa ON pa.id = p.actor_id WHERE p.id = $1 AND p.owner_id IS NOT NULL",
        [publication.playlistId],
      );
      if (rows[0]) await sendNoteDeletions(ctx, deps.pool, { kind: "playlist", id: publication.playlistId, username: rows[0].username });
      return;
    }
    if (publication.kind === "profile") {
      const { rows } = await deps.pool.query<{ username: string }>(
        "SELECT pa.username FROM playlist p JOIN actor pa ON pa.id = p.actor_id WHERE p.id = $1 AND p.owner_id IS NOT NULL AND p.privacy <> 'private'",
        [publication.playlistId],
      );
      if (rows[0]) await sendProfileUpdate(deps.federation, deps.publicUrl, deps.pool, { kind: "playlist", id: publication.playlistId }, rows[0].username);
      return;
    }
    const object = new Collection({ id: new URL(urls.playlist(publication.playlistId)) });
    if (publication.kind === "delete") {
      const actor = ctx.getActorUri(publication.ownerUsername);
      if (publication.recipients.length) {
        const activity = new Delete({ id: new URL(`${actor.href}#delete-playlist/${randomUUID()}`), actor, object, tos: publication.recipients.map((r) => new URL(r.id)) });
        await ctx.sendActivity({ identifier: publication.ownerUsername }, publication.recipients.map(asRecipient), activity, { preferSharedInbox: true });
      }
      if (publication.actorUsername) await sendActorDeletion(ctx, publication.actorUsername, publication.microblogRecipients ?? []);
      return;
    }
    // Deleted or made private since: its Delete told the followers.
    const audience = await playlistAudience(deps.pool, publication.playlistId);
    if (!audience?.recipients.length) return;
    const actor = ctx.getActorUri(audience.ownerUsername);
    const activity = new Update({ id: new URL(`${object.id!.href}#update/${randomUUID()}`), actor, object, tos: audience.recipients.map((r) => new URL(r.id)) });
    await ctx.sendActivity({ identifier: audience.ownerUsername }, audience.recipients.map(asRecipient), activity, { preferSharedInbox: true });
  };
}
