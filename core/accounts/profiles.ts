import type pg from "pg";
import { NotFound } from "../errors.ts";
import type { Privacy } from "../library/library.entity.ts";

// A person's profile here: who they are and what they share. Other people of this server see their
// public and instance-wide libraries and playlists; other servers see the public ones, linked from their
// Person actor (`streams`), never a private one.

export interface SharedCollection {
  id: string;
  name: string;
  description: string;
  privacy: Privacy;
  /** Finished uploads of a library, items of a playlist. */
  count: number;
}

export interface LocalProfile {
  username: string;
  name: string | null;
  /** `@username@host`. */
  handle: string;
  actorFid: string;
  libraries: SharedCollection[];
  playlists: SharedCollection[];
}

/** Libraries then playlists of the person whose user is `$1`, with privacy among `$2`. */
const SHARED_SQL = `
  SELECT 'library' AS kind, l.id, l.name, l.description, l.privacy, l.created_at,
         (SELECT count(*)::int FROM upload u WHERE u.library_id = l.id AND u.status = 'finished') AS count
  FROM library l WHERE l.owner_id = $1 AND l.privacy = ANY($2::text[])
  UNION ALL
  SELECT 'playlist', p.id, p.name, p.description, p.privacy, p.created_at,
         (SELECT count(*)::int FROM playlist_item i WHERE i.playlist_id = p.id)
  FROM playlist p WHERE p.owner_id = $1 AND p.privacy = ANY($2::text[])
  ORDER BY created_at, id`;

async function sharedCollections(db: pg.Pool, userId: string, privacies: Privacy[]) {
  const { rows } = await db.query<SharedCollection & { kind: "library" | "playlist"; created_at: Date }>(SHARED_SQL, [userId, privacies]);
  const strip = ({ kind: _kind, created_at: _created, ...rest }: (typeof rows)[number]): SharedCollection => rest;
  return {
    libraries: rows.filter((r) => r.kind === "library").map(strip),
    playlists: rows.filter((r) => r.kind === "playlist").map(strip),
  };
}

/** The profile of our person `username`, as another person of this server sees it; NotFound when there is none. */
export async function localProfile(db: pg.Pool, username: string, host: string): Promise<LocalProfile> {
  const { rows } = await db.query<{ id: string; username: string; name: string | null; fid: string }>(
    `SELECT u.id, a.username, a.name, a.fid FROM app_user u JOIN actor a ON a.id = u.actor_id
     WHERE a.username = lower($1) AND a.is_local AND a.deleted_at IS NULL AND u.disabled_at IS NULL`,
    [username],
  );
  const user = rows[0];
  if (!user) throw new NotFound("person");
  const shared = await sharedCollections(db, user.id, ["public", "instance"]);
  return { username: user.username, name: user.name, handle: `@${user.username}@${host}`, actorFid: user.fid, ...shared };
}

/** The public libraries and playlists of the person whose actor is `actorId`: what their Person actor links. */
export async function publicCollectionsOfActor(db: pg.Pool, actorId: string): Promise<{ libraries: string[]; playlists: string[] }> {
  const { rows } = await db.query<{ id: string }>("SELECT id FROM app_user WHERE actor_id = $1", [actorId]);
  if (!rows[0]) return { libraries: [], playlists: [] };
  const shared = await sharedCollections(db, rows[0].id, ["public"]);
  return { libraries: shared.libraries.map((l) => l.id), playlists: shared.playlists.map((p) => p.id) };
}
