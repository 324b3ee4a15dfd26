import type { EntityManager } from "@mikro-orm/core";
import { finishedCopySql, itemInLibrariesSql, readableLibraryIdsSql } from "../catalog/catalog-read.ts";
import type { Privacy } from "../library/library.entity.ts";
import { paragraphs } from "./html-text.ts";

// What the actor of a library or playlist shows as a profile on microblog servers (Mastodon shows it
// as a bot account): an avatar from its cover art, a bio, a link to its page here.

export interface CollectionProfile {
  kind: "library" | "playlist";
  id: string;
  name: string;
  description: string;
  privacy: Privacy;
  /** The owner's person actor, and its username. */
  ownerFid: string;
  ownerUsername: string;
  /** The newest cover anyone may read (an album in a public library), for the avatar; null when none. */
  coverHash: string | null;
}

/** SQL condition: album `al` has a cover an unsigned reader may fetch (the covers route answers it to anyone). */
export const publicCoverSql = `al.cover_hash IS NOT NULL AND ${itemInLibrariesSql("albums", "al", readableLibraryIdsSql("NULL"))}`;

/** The library or playlist a local actor represents, with its profile; null for other actors and deleted rows. */
export async function collectionProfileOfActor(em: EntityManager, actorId: string): Promise<CollectionProfile | null> {
  const rows = await em.getConnection().execute<CollectionProfile[]>(
    `SELECT 'library' AS kind, l.id, l.name, l.description, l.privacy, oa.fid AS "ownerFid", oa.username AS "ownerUsername",
            (SELECT al.cover_hash FROM upload u JOIN track t ON t.id = u.track_id JOIN album al ON al.id = t.album_id
             WHERE u.library_id = l.id AND ${finishedCopySql("u")} AND ${publicCoverSql}
             ORDER BY u.created_at DESC LIMIT 1) AS "coverHash"
     FROM library l JOIN app_user o ON o.id = l.owner_id JOIN actor oa ON oa.id = o.actor_id
     WHERE l.actor_id = ?
     UNION ALL
     SELECT 'playlist', p.id, p.name, p.description, p.privacy, oa.fid, oa.username,
            (SELECT al.cover_hash FROM playlist_item i JOIN track t ON t.id = i.track_id JOIN album al ON al.id = t.album_id
             WHERE i.playlist_id = p.id AND ${publicCoverSql}
             ORDER BY i.added_at DESC, i.position DESC LIMIT 1)
     FROM playlist p JOIN app_user o ON o.id = p.owner_id JOIN actor oa ON oa.id = o.actor_id
     WHERE p.actor_id = ?`,
    [actorId, actorId],
  );
  return rows[0] ?? null;
}

/** The bio, as HTML (what Mastodon renders): the description, or one made from what it is and whose. */
export function profileSummary(profile: CollectionProfile, domain: string): string {
  const owner = `@${profile.ownerUsername}@${domain}`;
  const text = profile.description.trim()
    ? profile.description.trim()
    : profile.kind === "library"
      ? `Music library “${profile.name}” shared by ${owner}. Follow it to see each album added to it.`
      : `Playlist “${profile.name}” by ${owner}. Follow it to see the tracks added to it.`;
  return paragraphs(text);
}
