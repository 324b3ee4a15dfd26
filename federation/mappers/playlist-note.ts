import type { Note } from "@fedify/vocab";
import { escapeHtml } from "../../core/fediverse/html-text.ts";
import type { ObjectUrls } from "../../core/fediverse/object-urls.ts";
import type { PlaylistAnnouncement } from "../../core/fediverse/playlist-announcements.ts";
import { trackListNote } from "./track-list-note.ts";

/**
 * The post a microblog follower sees for tracks added to a playlist: the playlist (linked), each track
 * with its artist (linked to its album's page) and, for a public playlist, the first cover and audio
 * that anyone may fetch (an item whose only copies are in private libraries is listed, not attached).
 */
export function playlistNote(announcement: PlaylistAnnouncement, ids: { note: URL; actor: URL }, urls: ObjectUrls): Note {
  const page = urls.playlistWebPage(announcement.playlistId);
  const count = announcement.added === 1 ? "a track" : `${announcement.added} tracks`;
  const covered = announcement.items.find((i) => i.coverHash);
  return trackListNote(
    {
      intro: `Added to <a href="${escapeHtml(page)}">${escapeHtml(announcement.playlistName)}</a>: ${count}`,
      url: page,
      published: announcement.published,
      followersUrl: announcement.followersUrl,
      isPublic: announcement.privacy === "public",
      cover: covered ? { hash: covered.coverHash!, name: `Cover of ${covered.title}` } : null,
      total: announcement.added,
      tracks: announcement.items.map((i) => {
        const title = i.albumId ? `<a href="${escapeHtml(urls.albumWebPage(i.albumId))}">${escapeHtml(i.title)}</a>` : escapeHtml(i.title);
        return { line: i.artist ? `${title} by ${escapeHtml(i.artist)}` : title, name: `${i.artist} – ${i.title}`, audio: i.publicAudio };
      }),
    },
    ids,
    urls,
  );
}
