import type { User } from "../accounts/user.entity.ts";
import type { Library, Privacy } from "../library/library.entity.ts";
import type { ItemKind } from "./user-data.service.ts";

// The catalog's read rules, in one place: what a viewer may see, and which copy of a track is the
// one they hear. Every query that shows, streams or counts music builds on these fragments, so a new
// way of seeing a library (following a remote one) is one clause in visibleLibrariesSql.

/**
 * Who may see a library's content: its owner always; any signed-in local user for `instance`;
 * anyone for `public`; a remote library's accepted followers (`followed`, from followedLibrarySql).
 * Everything else answers as if the library did not exist.
 */
export function canSeeLibrary(
  viewer: User | undefined,
  library: Pick<Library, "privacy"> & { owner?: { id: string } | null },
  followed = false,
): boolean {
  if (viewer && library.owner?.id === viewer.id) return true;
  if (!library.owner) return followed;
  return visiblePrivacies(viewer).includes(library.privacy);
}

/** The privacies of others' libraries (and playlists) a viewer may see. */
export function visiblePrivacies(viewer: User | undefined): Privacy[] {
  return viewer ? ["instance", "public"] : ["public"];
}

/**
 * The libraries a signed-in viewer may see, as a MikroORM filter (the ORM's spelling of
 * visibleLibrariesSql); `followed` are the remote libraries they follow (followedLibrarySql).
 */
export function visibleLibrariesWhere(viewer: User, followed: string[]) {
  return { $or: [{ owner: viewer.id }, { owner: { $ne: null }, privacy: { $in: visiblePrivacies(viewer) } }, { id: { $in: followed } }] };
}

/** The owner/privacy rule on a row with `owner_id` and `privacy` (libraries, playlists); `$n` is the viewer's id or null. */
const ownedOrSharedSql = (alias: string, viewerParam: string) =>
  `(${alias}.owner_id = ${viewerParam}::uuid OR ${alias}.privacy = 'public'
           OR (${viewerParam}::uuid IS NOT NULL AND ${alias}.privacy = 'instance'))`;

/**
 * SQL condition: remote library (or playlist) `alias` is spoken for by an actor of a domain an admin
 * blocked (or, with `"silenced"`, silenced).
 */
export function moderatedDomainLibrarySql(alias: string, flag: "blocked" | "silenced" = "blocked"): string {
  return `EXISTS (SELECT 1 FROM actor ma JOIN domain md ON md.name = ma.domain WHERE ma.id = ${alias}.actor_id AND md.${flag})`;
}

/**
 * SQL condition: library `alias` is a remote one the viewer ($n) may see through an accepted follow:
 * their own (follows are per person: their actor follows), or the instance actor's, which an
 * administrator made for everyone here (instance follows), so any signed-in local user sees it. Never
 * one of a blocked server; a silenced server's only through one's own follow (the instance's is a
 * shared view, which silence keeps it out of). Following a remote playlist shows the library of its audio.
 */
export function followedLibrarySql(alias: string, viewerParam: string): string {
  return `(${alias}.owner_id IS NULL AND ${viewerParam}::uuid IS NOT NULL AND (EXISTS (
            SELECT 1 FROM follow vf JOIN actor va ON va.id = vf.follower_id AND va.is_local LEFT JOIN app_user vu ON vu.actor_id = va.id
            WHERE vf.library_id = ${alias}.id AND vf.state = 'accepted'
              AND (vu.id = ${viewerParam}::uuid OR (va.represents = 'instance' AND NOT ${moderatedDomainLibrarySql(alias, "silenced")})))
          OR EXISTS (SELECT 1 FROM playlist vp WHERE vp.library_id = ${alias}.id AND ${followedPlaylistSql("vp", viewerParam)}))
          AND NOT ${moderatedDomainLibrarySql(alias)})`;
}

/**
 * SQL condition: playlist `alias` is a remote one the viewer ($n) follows, accepted, and not of a blocked
 * server. Following a remote playlist also shows the remote library holding its items' audio
 * (followedLibrarySql).
 */
export function followedPlaylistSql(alias: string, viewerParam: string): string {
  return `(${alias}.owner_id IS NULL AND EXISTS (SELECT 1 FROM follow pf JOIN app_user pu ON pu.actor_id = pf.follower_id
            WHERE pf.playlist_id = ${alias}.id AND pu.id = ${viewerParam}::uuid AND pf.state = 'accepted')
            AND NOT ${moderatedDomainLibrarySql(alias)})`;
}

/**
 * SQL condition on a library alias that keeps only the libraries `viewer` may see; `$n` is the
 * viewer's id parameter (null for anonymous). THE visibility rule: every other fragment here
 * derives from it.
 */
export function visibleLibrariesSql(alias: string, viewerParam: string): string {
  return `(${ownedOrSharedSql(alias, viewerParam)} OR ${followedLibrarySql(alias, viewerParam)})`;
}

/** SQL condition on a playlist alias: playlists follow the libraries' owner/privacy rule; remote ones, their followers'. */
export function visiblePlaylistsSql(alias: string, viewerParam: string): string {
  return `(${ownedOrSharedSql(alias, viewerParam)} OR ${followedPlaylistSql(alias, viewerParam)})`;
}

/**
 * SQL condition: local library `alias` may be read over federation (its pages, audio and media) by the
 * actor row $n that signed the request (null: unsigned): a public library by anyone; a private or
 * instance one only by an actor whose follow of it was accepted (authorized fetch). Remote libraries
 * are never served again by us. What a signer may not read answers as if missing.
 */
export function readableBySignerSql(alias: string, signerParam: string): string {
  return `(${alias}.owner_id IS NOT NULL AND (${alias}.privacy = 'public'
            OR EXISTS (SELECT 1 FROM follow sf WHERE sf.library_id = ${alias}.id AND sf.follower_id = ${signerParam}::uuid
                         AND sf.state = 'accepted')))`;
}

/**
 * SQL condition: upload `u` in local library `l` may be read over federation by the signer ($n): the
 * library's rule (readableBySignerSql), or the playlist grant: following a playlist (accepted) gives its
 * followers the audio of its items that live in the playlist owner's own libraries, private ones included
 * (the follow is the grant). Everything a signer reads of an upload (Audio, media) goes through here.
 */
export function readableUploadBySignerSql(u: string, l: string, signerParam: string): string {
  return `(${readableBySignerSql(l, signerParam)} OR (${l}.owner_id IS NOT NULL AND ${u}.track_id = ANY(${playlistGrantedTracksSql(signerParam, `${l}.owner_id`)})))`;
}

/**
 * SQL: the tracks (uuid[]) of the non-private local playlists the signer ($n) follows with an accepted
 * follow; with `owner`, only playlists of that owner (an SQL expression). The playlist grant's one rule:
 * readableUploadBySignerSql, and the track, album, artist and cover documents of those tracks.
 */
export function playlistGrantedTracksSql(signerParam: string, owner?: string): string {
  return `ARRAY(SELECT gi.track_id FROM follow gf JOIN playlist gp ON gp.id = gf.playlist_id JOIN playlist_item gi ON gi.playlist_id = gp.id
            WHERE gf.follower_id = ${signerParam}::uuid AND gf.state = 'accepted' AND gp.owner_id IS NOT NULL
              AND gp.privacy <> 'private' AND gi.track_id IS NOT NULL${owner ? ` AND gp.owner_id = ${owner}` : ""})`;
}

/** SQL: the ids of the local libraries the signer ($n, or null) may read over federation, as a uuid[]. */
export function readableLibraryIdsSql(signerParam: string): string {
  return `ARRAY(SELECT l.id FROM library l WHERE ${readableBySignerSql("l", signerParam)})`;
}

/**
 * SQL: the ids of the libraries the viewer ($n) may see, as a uuid[]. Uncorrelated, so PostgreSQL
 * computes it once per statement (an InitPlan), however many rows test against it.
 */
export function visibleLibraryIdsSql(viewerParam: string): string {
  return `ARRAY(SELECT l.id FROM library l WHERE ${visibleLibrariesSql("l", viewerParam)})`;
}

/**
 * SQL condition: the catalog row `alias`.id of this kind has a finished upload the viewer ($n) may see.
 * search_document (migrations/0005-search.sql) keeps, for every track, album and artist with a finished
 * upload, the libraries holding it (an artist: through the tracks and albums credited to them, which
 * include the main and album artist: the importer credits them first), exact within the importing or
 * deleting transaction. One primary-key probe a row, where joining track -> upload -> library cost
 * ~240 ms over 10,000 albums. search_visible() is `&&` hidden from the planner's estimate (see 0005):
 * the bare operator is guessed to keep 1% of rows, and newest-first album pages then sorted every
 * visible album instead of walking the created_at index until the page is full.
 */
export function visibleItemSql(kind: ItemKind, alias: string, viewerParam: string): string {
  return itemInLibrariesSql(kind, alias, visibleLibraryIdsSql(viewerParam));
}

/** SQL condition: the catalog row `alias`.id has a finished upload in one of `libraries` (a uuid[] expression). */
export function itemInLibrariesSql(kind: ItemKind, alias: string, libraries: string): string {
  return `EXISTS (SELECT 1 FROM search_document vd WHERE vd.id = ${alias}.id AND vd.kind = '${kind.slice(0, -1)}'
            AND search_visible(vd.library_ids, ${libraries}))`;
}

/** SQL condition: upload `alias` is a finished copy (imported, its track in the catalog). */
export const finishedCopySql = (alias: string) => `${alias}.status = 'finished'`;

/**
 * Whose copies: `{ viewer }` a parameter holding the viewer's id (or null), joined to each copy's
 * library; `{ libraries }` an expression already holding the ids of the libraries the viewer sees
 * (visibleLibraryIdsSql, or a parameter computed by an earlier statement).
 */
export type CopyViewer = { viewer: string } | { libraries: string };

/**
 * SQL FROM ... WHERE of the finished copies (upload `u`, its library `l` with `{ viewer }`) the viewer
 * may hear, of track `track` (an SQL expression) or, with null, of any track. Callers may add
 * `AND ...` conditions after it.
 */
export function visibleCopiesSql(track: string | null, who: CopyViewer): string {
  const ofTrack = track === null ? "" : `u.track_id = ${track} AND `;
  return "libraries" in who
    ? `upload u WHERE ${ofTrack}${finishedCopySql("u")} AND u.library_id = ANY(${who.libraries})`
    : `upload u JOIN library l ON l.id = u.library_id WHERE ${ofTrack}${finishedCopySql("u")} AND ${visibleLibrariesSql("l", who.viewer)}`;
}

/**
 * The best copy first: one on this server before a remote one (no download; it plays while the other
 * server is away), then lossless, the highest bitrate, the oldest, and by id (uploads of one import
 * transaction share created_at). upload_best_copy_order_index (migrations 0015, 0020) holds finished
 * copies in this order, so `LIMIT 1` reads one index entry per visible copy skipped, and never sorts.
 */
export const BEST_COPY_ORDER = "(u.storage = 'remote'), u.lossless DESC NULLS LAST, u.bitrate DESC NULLS LAST, u.created_at, u.id";

/**
 * SQL SELECT of `columns` (over upload `u`) of the copy of `track` the viewer hears: the one stream
 * sends, whose duration and format the catalog shows. No row when the viewer may hear none.
 */
export function bestCopySql(track: string, who: CopyViewer, columns: string): string {
  return `SELECT ${columns} FROM ${visibleCopiesSql(track, who)} ORDER BY ${BEST_COPY_ORDER} LIMIT 1`;
}
