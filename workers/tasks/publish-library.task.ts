import { randomUUID } from "node:crypto";
import type { Federation } from "@fedify/fedify";
import { Audio, Collection, Create, Delete, Update } from "@fedify/vocab";
import type { Task } from "graphile-worker";
import type pg from "pg";
import { libraryFollowers, type Publication } from "../../core/fediverse/library-publications.ts";
import { objectUrls } from "../../core/fediverse/object-urls.ts";
import { sendActorDeletion } from "../../federation/outbox/actor-deletion.ts";
import { sendAlbumNotes } from "../../federation/outbox/album-notes.ts";
import { sendNoteDeletions } from "../../federation/outbox/note-deletions.ts";
import { sendProfileUpdate } from "../../federation/outbox/profile-update.ts";
import { asRecipient } from "../../federation/outbox/recipients.ts";

interface LibraryActorRow {
  username: string;
  followers_url: string;
  name: string;
  description: string;
}

/**
 * Tells a local library's followers what changed (core/fediverse/library-publications.ts queued it):
 * Create/Update/Delete(Audio), Update(Library), Delete(Library), and to microblog followers a Note per
 * album added (federation/outbox/album-notes.ts) and its Delete when the upload naming it is deleted
 * (note-deletions.ts), an Update of the actor, a Delete of the actor. Activities name their objects by id;
 * a follower reads each Audio it is told of with a signed GET, as a scan does. Fedify delivers them
 * once per shared inbox, with its retries and backoff, each inbox in a job of its own.
 */
export function publishLibraryTask(deps: { federation: Federation<void>; pool: pg.Pool; publicUrl: URL }): Task {
  const urls = objectUrls(deps.publicUrl);
  return async (payload) => {
    const publication = payload as Publication;
    const ctx = deps.federation.createContext(deps.publicUrl, undefined);
    if (publication.kind === "delete-library") {
      const actor = ctx.getActorUri(publication.actorUsername);
      const activity = new Delete({
        id: new URL(`${actor.href}#delete-library/${randomUUID()}`),
        actor,
        object: new Collection({ id: new URL(urls.library(publication.libraryId)) }),
        to: ctx.getFollowersUri(publication.actorUsername),
      });
      if (publication.recipients.length) {
        await ctx.sendActivity({ identifier: publication.actorUsername }, publication.recipients.map(asRecipient), activity, { preferSharedInbox: true });
      }
      await sendActorDeletion(ctx, publication.actorUsername, publication.microblogRecipients ?? []);
      return;
    }
    const { rows } = await deps.pool.query<LibraryActorRow>(
      `SELECT la.username, la.followers_url, l.name, l.description FROM library l JOIN actor la ON la.id = l.actor_id
       WHERE l.id = $1 AND l.owner_id IS NOT NULL`,
      [publication.libraryId],
    );
    const library = rows[0];
    // Deleted since: its Delete(Library) tells the followers.
    if (!library) return;
    // Microblog followers see a post per album added (gone again with the upload naming it) and their copy
    // of the profile updated, and nothing of the Audio and Library activities below.
    if (publication.kind === "create") await sendAlbumNotes(ctx, deps.pool, publication.libraryId, publication.uploadIds);
    if (publication.kind === "delete") await sendNoteDeletions(ctx, deps.pool, { kind: "library", id: publication.libraryId, username: library.username });
    if (publication.kind === "update-library") await sendProfileUpdate(deps.federation, deps.publicUrl, deps.pool, { kind: "library", id: publication.libraryId }, library.username);
    const recipients = (await libraryFollowers(deps.pool, publication.libraryId)).map(asRecipient);
    if (!recipients.length) return;
    const actor = ctx.getActorUri(library.username);
    const to = new URL(library.followers_url);
    const send = (activity: Create | Update | Delete) => ctx.sendActivity({ identifier: library.username }, recipients, activity, { preferSharedInbox: true });

    if (publication.kind === "update-library") {
      const object = new Collection({ id: new URL(urls.library(publication.libraryId)), name: library.name, summary: library.description || null });
      await send(new Update({ id: new URL(`${object.id!.href}#update/${randomUUID()}`), actor, object, to }));
      return;
    }
    if (publication.kind === "delete") {
      const objects = publication.uploadIds.map((id) => new Audio({ id: new URL(urls.audio(id)) }));
      await send(new Delete({ id: new URL(`${actor.href}#delete/${randomUUID()}`), actor, objects, to }));
      return;
    }
    // Create or Update: only uploads still finished in this library (one deleted since is told by its Delete).
    const finished = await deps.pool.query<{ id: string }>(
      "SELECT id FROM upload WHERE id = ANY($1::uuid[]) AND library_id = $2 AND status = 'finished'",
      [publication.uploadIds, publication.libraryId],
    );
    for (const { id } of finished.rows) {
      const object = new Audio({ id: new URL(urls.audio(id)) });
      const activityId = new URL(`${urls.audio(id)}/activity${publication.kind === "update" ? `/${randomUUID().slice(0, 8)}` : ""}`);
      await send(publication.kind === "create" ? new Create({ id: activityId, actor, object, to }) : new Update({ id: activityId, actor, object, to }));
    }
  };
}
