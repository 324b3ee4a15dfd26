/**
 * What a file's folders say when its tags do not, for files found in a music folder laid out as most
 * are: "Artist/Album/01 - Title.mp3", or "Artist/Album/CD2/01 - Title.mp3" for one folder per disc.
 * Without it every untagged file of a library would land on one "Unknown Album", and two "01 - Intro"
 * of different folders would be one track.
 */
import { artistCredits } from "./artist-credits.ts";
import type { TrackTags } from "./tags.ts";

const DISC_FOLDER = /^(?:cd|dis[ck])\s*[-_.]?\s*(?<disc>\d{1,2})$/iu;

/**
 * Fills the album (the file's folder, or the one above a disc folder), the disc number and, when the
 * file names no artist at all, the album artist (the folder above the album's) from `folders`: the
 * folders between the music folder and the file, outermost first. Tags always win.
 */
export function withFolderTags<T extends TrackTags>(tags: T, folders: readonly string[]): T {
  if (tags.album !== null || folders.length === 0) return tags;
  const innermost = folders.at(-1)!;
  const disc = DISC_FOLDER.exec(innermost)?.groups?.disc;
  const albumAt = disc !== undefined && folders.length > 1 ? folders.length - 2 : folders.length - 1;
  const artist = albumAt > 0 && !tags.artists.length && !tags.albumArtists.length ? folders[albumAt - 1]! : null;
  return {
    ...tags,
    album: folders[albumAt]!,
    discNumber: tags.discNumber ?? (disc !== undefined && albumAt < folders.length - 1 ? Number(disc) : null),
    albumArtists: artist ? artistCredits(artist, [], []) : tags.albumArtists,
    artists: artist ? artistCredits(artist, [], []) : tags.artists,
  };
}
