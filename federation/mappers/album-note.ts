import { Document, Image, Note, PUBLIC_COLLECTION } from "@fedify/vocab";
import { AUDIO_ATTACHMENTS, type AlbumAnnouncement, TRACKS_LISTED } from "../../core/fediverse/album-announcements.ts";
import { escapeHtml } from "../../core/fediverse/html-text.ts";
import type { ObjectUrls } from "../../core/fediverse/object-urls.ts";
import { mimeType } from "./funkwhale-library.ts";
import { toInstant } from "./temporal.ts";

/**
 * The post a microblog follower sees for an album added to a library (Mastodon's status parser reads
 * content, url, published, to/cc and up to 4 attachments): the album, its artist and tracks, a link to
 * its page here, its cover and its first tracks' audio. Addressed to the library's followers, and
 * unlisted (Public in cc) for a public library, whose cover and audio anyone may fetch: only then are
 * they attached.
 */
export function albumNote(announcement: AlbumAnnouncement, ids: { note: URL; actor: URL }, urls: ObjectUrls): Note {
  const isPublic = announcement.privacy === "public";
  const albumPage = urls.albumWebPage(announcement.albumId);
  const listed = announcement.tracks.slice(0, TRACKS_LISTED);
  const more = announcement.tracks.length - listed.length;
  const trackLines = listed.map((t) => escapeHtml(t.artist === announcement.albumArtist ? t.title : `${t.title} (${t.artist})`));
  if (more > 0) trackLines.push(`and ${more} more`);
  const tracks = announcement.tracks.length === 1 ? "a track" : `${announcement.tracks.length} tracks`;
  const content =
    `<p>New in <a href="${escapeHtml(urls.libraryWebPage(announcement.libraryId))}">${escapeHtml(announcement.libraryName)}</a>: ` +
    `${tracks} from <a href="${escapeHtml(albumPage)}">${escapeHtml(announcement.albumTitle)}</a> by ${escapeHtml(announcement.albumArtist)}</p>` +
    `<p>${trackLines.join("<br>")}</p>`;
  // Microblog servers fetch attachments unsigned: only a public library's cover and audio answer them.
  const cover = isPublic && announcement.coverHash
    ? [new Image({ mediaType: "image/jpeg", url: new URL(urls.cover(announcement.coverHash)), name: `Cover of ${announcement.albumTitle}` })]
    : [];
  const audio = isPublic
    ? announcement.tracks
        .filter((t) => mimeType(t.mimeType).startsWith("audio/"))
        .slice(0, AUDIO_ATTACHMENTS)
        .map((t) => new Document({ mediaType: mimeType(t.mimeType), url: new URL(urls.stream(t.uploadId)), name: `${t.artist} – ${t.title}` }))
    : [];
  return new Note({
    id: ids.note,
    attribution: ids.actor,
    content,
    url: new URL(albumPage),
    published: toInstant(announcement.published),
    to: new URL(announcement.followersUrl),
    ccs: isPublic ? [PUBLIC_COLLECTION] : [],
    attachments: [...cover, ...audio],
    sensitive: false,
  });
}
