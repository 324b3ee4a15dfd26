// Generates a synthetic music folder for benchmarks: real encoded audio (one ffmpeg encode per format,
// then re-tagged in memory, so N files cost seconds, not minutes), varied tags, embedded covers on some albums.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { makeAudio, makeCoverImage, type AudioFormat } from "../test/fixtures/audio.ts";
import { id3v2Tag, tagWav, type Picture, type TagValues } from "../test/fixtures/id3v2-tags.ts";
import { tagMp4 } from "../test/fixtures/mp4-tags.ts";
import { tagFlac, tagOgg } from "../test/fixtures/vorbis-tags.ts";

export const FORMATS: AudioFormat[] = ["mp3", "flac", "ogg", "opus", "m4a", "wav"];
const TRACKS_PER_ALBUM = 10;
const GENRES = ["Rock", "Jazz", "Electronic", "Folk", "Hip-Hop", "Classical", "Ambient", "Metal"];

function tagged(format: AudioFormat, audio: Buffer, tags: TagValues, pictures: Picture[]): Buffer {
  switch (format) {
    case "mp3":
      return Buffer.concat([id3v2Tag(tags, pictures), audio]);
    case "wav":
      return tagWav(audio, id3v2Tag(tags, pictures));
    case "flac":
      return tagFlac(audio, tags, pictures);
    case "m4a":
      return tagMp4(audio, tags, pictures);
    default:
      return tagOgg(audio, tags, pictures);
  }
}

function uuidFor(kind: number, n: number): string {
  const hex = (kind * 1_000_000 + n).toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${hex}`;
}

/** Writes `n` tagged files under `dir` (artist/album/NN title.ext); returns their paths. `prefix` keeps two sets apart. */
export async function generateLibrary(dir: string, n: number, prefix = ""): Promise<string[]> {
  await rm(dir, { recursive: true, force: true });
  const scratch = path.join(dir, ".bases");
  await mkdir(scratch, { recursive: true });
  const bases = new Map<AudioFormat, Buffer>();
  for (const format of FORMATS) bases.set(format, await readFile(await makeAudio(scratch, { name: "base", format, seconds: 2 })));
  await rm(scratch, { recursive: true, force: true });
  const files: string[] = [];
  const covers = new Map<number, Buffer>();
  for (let i = 0; i < n; i++) {
    const album = Math.floor(i / TRACKS_PER_ALBUM);
    const artist = album % Math.max(1, Math.floor(n / 40));
    const format = FORMATS[album % FORMATS.length]!;
    const trackNo = (i % TRACKS_PER_ALBUM) + 1;
    const compilation = album % 17 === 5;
    const tags: TagValues = {
      TITLE: `${prefix}Song ${i} ${["Blue", "Ñandú", "Été", "Night"][i % 4]}`,
      ARTIST: compilation ? `${prefix}Guest ${i % 50}` : trackNo === 3 ? `${prefix}Artist ${artist} feat. ${prefix}Guest ${i % 30}` : `${prefix}Artist ${artist}`,
      ALBUM: `${prefix}Album ${album}`,
      TRACKNUMBER: String(trackNo),
      TRACKTOTAL: String(TRACKS_PER_ALBUM),
      DATE: String(1960 + (album % 60)),
      GENRE: [GENRES[album % GENRES.length]!, ...(album % 3 === 0 ? [GENRES[(album + 1) % GENRES.length]!] : [])],
      ...(compilation ? { ALBUMARTIST: "Various Artists", COMPILATION: "1" } : { ALBUMARTIST: `${prefix}Artist ${artist}` }),
      ...(album % 2 === 0 && !prefix ? { MUSICBRAINZ_ALBUMID: uuidFor(1, album), MUSICBRAINZ_TRACKID: uuidFor(2, i) } : {}),
    };
    let pictures: Picture[] = [];
    if (album % 4 === 0) {
      if (!covers.has(album)) covers.set(album, await makeCoverImage(300 + (album % 200), 300, "jpeg"));
      pictures = [{ data: covers.get(album)!, mimeType: "image/jpeg", type: 3 }];
    }
    const folder = path.join(dir, `${prefix}Artist ${artist}`, `${prefix}Album ${album}`);
    await mkdir(folder, { recursive: true });
    const file = path.join(folder, `${String(trackNo).padStart(2, "0")} Song ${i}.${format}`);
    await writeFile(file, tagged(format, bases.get(format)!, tags, pictures));
    files.push(file);
  }
  return files;
}
