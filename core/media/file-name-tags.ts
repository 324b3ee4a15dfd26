/**
 * What a file's name says when its tags do not: "01 - Title.mp3", "01 Title.flac", "1. Title.ogg",
 * "1-03 Title.m4a" (disc 1, track 3, as iTunes names them), "Artist - 01 - Title.mp3". Without it every
 * untagged file of a folder would be one "Untitled" track, and unnumbered files would play in no order.
 */
import path from "node:path";
import { artistCredits, cleanText } from "./artist-credits.ts";
import type { TrackTags } from "./tags.ts";

export interface FileNameTags {
  title: string;
  trackNumber: number | null;
  discNumber: number | null;
  artist: string | null;
}

const PATTERNS: RegExp[] = [
  /^(?<artist>.+?) - (?<track>\d{1,3}) - (?<title>.+)$/u,
  /^(?<disc>\d)-(?<track>\d{2,3})[ .]+(?<title>.+)$/u,
  /^(?<track>\d{1,3})\s*(?:[-.)\]]\s*|\s)(?<title>.+)$/u,
];

/** The title, numbers and artist a file name spells, with its extension and leading path removed. */
export function parseFileName(fileName: string): FileNameTags {
  const extension = path.extname(fileName);
  let base = path.basename(fileName, /^\.[\p{L}\p{N}]{1,5}$/u.test(extension) ? extension : "").trim();
  // Some rippers write underscores for spaces: "01_-_Title".
  if (!base.includes(" ")) base = base.replaceAll("_", " ").trim();
  for (const pattern of PATTERNS) {
    const groups = pattern.exec(base)?.groups;
    const title = cleanText(groups?.title);
    if (groups && title) {
      return { title, trackNumber: Number(groups.track), discNumber: groups.disc ? Number(groups.disc) : null, artist: cleanText(groups.artist) };
    }
  }
  // A bare number ("07.mp3") numbers the track; the name stays its title.
  return { title: base || fileName, trackNumber: /^\d{1,3}$/u.test(base) ? Number(base) : null, discNumber: null, artist: null };
}

/**
 * Fills what the tags lack from the file name: the title, the track and disc numbers and (with
 * "Artist - 01 - Title") the artist. A title tag that is the whole name ("99 Luftballons") keeps its number.
 */
export function withFileNameTags<T extends TrackTags>(tags: T, fileName: string): T {
  if (tags.title !== null && tags.trackNumber !== null) return tags;
  const parsed = parseFileName(fileName);
  const numbered = tags.title === null || normalize(tags.title) !== normalize(path.parse(fileName).name);
  return {
    ...tags,
    title: tags.title ?? parsed.title,
    trackNumber: tags.trackNumber ?? (numbered ? parsed.trackNumber : null),
    discNumber: tags.discNumber ?? (numbered ? parsed.discNumber : null),
    // An artist only for a file without a title tag: a tagged file's name is not worth more than its tags.
    artists: tags.artists.length || tags.title !== null ? tags.artists : artistCredits(parsed.artist, [], []),
  };
}

const normalize = (value: string) => value.normalize("NFC").toLowerCase().replaceAll("_", " ").trim();
