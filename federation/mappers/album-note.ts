import type { Note } from "@fedify/vocab";
import type { AlbumAnnouncement } from "../../core/fediverse/album-announcements.ts";
import { escapeHtml } from "../../core/fediverse/html-text.ts";
import type { ObjectUrls } from "../../core/fediverse/object-urls.ts";
import { trackListNote } from "./track-list-note.ts";

/**
 * The post a microblog follower sees for an album added to a library: the album, its artist and tracks,
 * a link to its page here and, for a public library (whose cover and audio anyone may fetch), its cover
 * and its first tracks' audio (track-list-note.ts).
 */
export function albumNote(announcement: AlbumAnnouncement, ids: { note: URL; actor: URL }, urls: ObjectUrls): Note {
  const isPublic = announcement.privacy === "public";
  const albumPage = urls.albumWebPage(announcement.albumId);
  const tracks = announcement.tracks.length === 1 ? "a track" : `${announcement.tracks.length} tracks`;
  return trackListNote(
    {
      intro:
        `New in <a href="${escapeHtml(urls.libraryWebPage(announcement.libraryId))}">${escapeHtml(announcement.libraryName)}</a>: ` +
        `${tracks} from <a href="${escapeHtml(albumPage)}">${escapeHtml(announcement.albumTitle)}</a> by ${escapeHtml(announcement.albumArtist)}`,
      url: albumPage,
      published: announcement.published,
      followersUrl: announcement.followersUrl,
      isPublic,
      cover: announcement.coverHash ? { hash: announcement.coverHash, name: `Cover of ${announcement.albumTitle}` } : null,
      tracks: announcement.tracks.map((t) => ({
        line: escapeHtml(t.artist === announcement.albumArtist ? t.title : `${t.title} (${t.artist})`),
        name: `${t.artist} – ${t.title}`,
        audio: { uploadId: t.uploadId, mimeType: t.mimeType },
      })),
    },
    ids,
    urls,
  );
}
