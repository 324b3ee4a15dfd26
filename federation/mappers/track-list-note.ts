import { Document, Image, Note, PUBLIC_COLLECTION } from "@fedify/vocab";
import { AUDIO_ATTACHMENTS, TRACKS_LISTED } from "../../core/fediverse/album-announcements.ts";
import type { ObjectUrls } from "../../core/fediverse/object-urls.ts";
import { mimeType } from "./funkwhale-library.ts";
import { toInstant } from "./temporal.ts";

/** A track a post lists: its line (HTML, escaped by the caller) and, when anyone may fetch one, its audio. */
export interface ListedTrack {
  line: string;
  /** The attachment's name (plain text). */
  name: string;
  /** A copy an unsigned GET may fetch (a public library's); null: listed, not attached. */
  audio: { uploadId: string; mimeType: string | null } | null;
}

/** What a post to microblog followers says of tracks just added to a library or a playlist. */
export interface TrackListPost {
  /** The first paragraph (HTML, escaped by the caller): where, what. */
  intro: string;
  /** The page the post links to (Mastodon's "url"). */
  url: string;
  published: Date;
  followersUrl: string;
  /** A public collection's post is unlisted (Public in cc), and only then carries attachments. */
  isPublic: boolean;
  /** A cover anyone may fetch. */
  cover: { hash: string; name: string } | null;
  tracks: ListedTrack[];
  /** How many tracks were added, when more than `tracks` (the rest are counted: "and N more"). */
  total?: number;
}

/**
 * The Note a microblog follower sees (Mastodon's status parser reads content, url, published, to/cc and
 * up to 4 attachments): the intro, the tracks listed (TRACKS_LISTED at most), and for a public collection
 * its cover and the first tracks' audio (AUDIO_ATTACHMENTS). Addressed to the followers, unlisted when
 * public. Microblog servers fetch attachments unsigned: only what anyone may read is attached.
 */
export function trackListNote(post: TrackListPost, ids: { note: URL; actor: URL }, urls: ObjectUrls): Note {
  const listed = post.tracks.slice(0, TRACKS_LISTED);
  const more = Math.max(post.total ?? 0, post.tracks.length) - listed.length;
  const lines = listed.map((t) => t.line);
  if (more > 0) lines.push(`and ${more} more`);
  const cover = post.isPublic && post.cover
    ? [new Image({ mediaType: "image/jpeg", url: new URL(urls.cover(post.cover.hash)), name: post.cover.name })]
    : [];
  const audio = post.isPublic
    ? post.tracks
        .flatMap((t) => (t.audio && mimeType(t.audio.mimeType).startsWith("audio/") ? [{ ...t.audio, name: t.name }] : []))
        .slice(0, AUDIO_ATTACHMENTS)
        .map((a) => new Document({ mediaType: mimeType(a.mimeType), url: new URL(urls.stream(a.uploadId)), name: a.name }))
    : [];
  return new Note({
    id: ids.note,
    attribution: ids.actor,
    content: `<p>${post.intro}</p><p>${lines.join("<br>")}</p>`,
    url: new URL(post.url),
    published: toInstant(post.published),
    to: new URL(post.followersUrl),
    ccs: post.isPublic ? [PUBLIC_COLLECTION] : [],
    attachments: [...cover, ...audio],
    sensitive: false,
  });
}
