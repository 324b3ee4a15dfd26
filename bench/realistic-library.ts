// A music folder that looks like a real one, for the peer benchmark (issue 19): MP3 (ID3v2.3 and 2.4),
// FLAC, Ogg Vorbis, Opus and M4A; albums of 8-14 tracks, some on two discs (Disc 1/, Disc 2/), some
// compilations; folder covers (cover.jpg, folder.jpg, front.png) of 500-3000 px on most albums, embedded
// covers of 500-1400 px on some (a few albums have both); and a few broken files. Audio is one ffmpeg
// encode per format, re-tagged in memory, so 2000 files take seconds to write.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { makeAudio, makeCoverImage, type AudioFormat } from "../test/fixtures/audio.ts";
import { id3v2Tag, type Picture, type TagValues } from "../test/fixtures/id3v2-tags.ts";
import { tagMp4 } from "../test/fixtures/mp4-tags.ts";
import { tagFlac, tagOgg } from "../test/fixtures/vorbis-tags.ts";

const FORMATS: AudioFormat[] = ["mp3", "flac", "ogg", "opus", "m4a"];
const GENRES = ["Rock", "Jazz", "Electronic", "Folk", "Hip-Hop", "Classical", "Ambient", "Metal", "Soul"];
const WORDS = ["Blue", "Ñandú", "Été", "Night", "Łódź", "River", "Glass", "Mañana", "Echo", "Stone", "Sigur", "Café"];
/** Folder cover sizes, longest side in pixels: what scans and shop downloads look like. */
const FOLDER_COVER_SIZES = [500, 600, 1000, 1200, 1400, 1600, 2000, 3000];
const EMBEDDED_COVER_SIZES = [500, 600, 800, 1000, 1400];

export interface RealisticLibrary {
  files: string[];
  /** Files that cannot be imported (empty, truncated, not audio). */
  broken: string[];
  albums: number;
}

function tagged(format: AudioFormat, audio: Buffer, tags: TagValues, pictures: Picture[], id3Version: 3 | 4): Buffer {
  switch (format) {
    case "mp3":
      return Buffer.concat([id3v2Tag(tags, pictures, id3Version), audio]);
    case "flac":
      return tagFlac(audio, tags, pictures);
    case "m4a":
      return tagMp4(audio, tags, pictures);
    default:
      return tagOgg(audio, tags, pictures);
  }
}

/** Each album gets its own cover bytes (a distinct hash, as real covers have): base image + a trailing marker. */
function distinct(image: Buffer, album: number): Buffer {
  return Buffer.concat([image, Buffer.from(`album-${album}`)]);
}

/** Writes about `n` files under `dir` (removed first). */
export async function generateRealisticLibrary(dir: string, n: number): Promise<RealisticLibrary> {
  await rm(dir, { recursive: true, force: true });
  const scratch = path.join(dir, ".bases");
  await mkdir(scratch, { recursive: true });
  const bases = new Map<AudioFormat, Buffer>();
  for (const format of FORMATS) bases.set(format, await readFile(await makeAudio(scratch, { name: "base", format, seconds: 2 })));
  await rm(scratch, { recursive: true, force: true });
  const folderCovers = await Promise.all(FOLDER_COVER_SIZES.map((size, i) => makeCoverImage(size, size - (i % 2) * 20, i === 3 ? "png" : "jpeg")));
  const embeddedCovers = await Promise.all(EMBEDDED_COVER_SIZES.map((size) => makeCoverImage(size, size, "jpeg")));
  const files: string[] = [];
  const broken: string[] = [];
  let album = 0;
  while (files.length < n) {
    const format = FORMATS[album % FORMATS.length]!;
    const artist = `${["The ", "", "DJ ", ""][album % 4]}${WORDS[album % WORDS.length]} ${Math.floor(album / 3)}`;
    const compilation = album % 13 === 7;
    const discs = album % 9 === 4 ? 2 : 1;
    const perDisc = 8 + (album % 7);
    const albumDir = path.join(dir, compilation ? "Various Artists" : artist, `${1965 + (album % 58)} - Album ${album} ${WORDS[(album + 5) % WORDS.length]}`);
    const folderCover = album % 5 !== 0; // 80% of albums
    const embedded = album % 10 === 0 || album % 10 === 3 || album % 10 === 6; // 30%, a third of them with a folder cover too
    const pictures: Picture[] = embedded ? [{ data: distinct(embeddedCovers[album % embeddedCovers.length]!, album), mimeType: "image/jpeg", type: 3 }] : [];
    for (let disc = 1; disc <= discs && files.length < n; disc++) {
      const folder = discs > 1 ? path.join(albumDir, `Disc ${disc}`) : albumDir;
      await mkdir(folder, { recursive: true });
      if (folderCover) {
        const which = album % folderCovers.length;
        const name = ["cover.jpg", "folder.jpg", "front.jpg", "cover.png"][which === 3 ? 3 : album % 3]!;
        await writeFile(path.join(folder, name), distinct(folderCovers[which]!, album));
      }
      for (let track = 1; track <= perDisc && files.length < n; track++) {
        const i = files.length;
        const tags: TagValues = {
          TITLE: `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} ${i}`,
          ARTIST: compilation ? `Guest ${i % 40}` : track === 3 ? `${artist} feat. Guest ${i % 30}` : artist,
          ALBUM: `Album ${album} ${WORDS[(album + 5) % WORDS.length]}`,
          TRACKNUMBER: String(track),
          TRACKTOTAL: String(perDisc),
          DISCNUMBER: String(disc),
          DISCTOTAL: String(discs),
          DATE: String(1965 + (album % 58)),
          GENRE: [GENRES[album % GENRES.length]!, ...(album % 3 === 0 ? [GENRES[(album + 1) % GENRES.length]!] : [])],
          ...(compilation ? { ALBUMARTIST: "Various Artists", COMPILATION: "1" } : { ALBUMARTIST: artist }),
        };
        const file = path.join(folder, `${String(track).padStart(2, "0")} ${tags.TITLE as string}.${format}`);
        await writeFile(file, tagged(format, bases.get(format)!, tags, pictures, album % 2 === 0 ? 3 : 4));
        files.push(file);
      }
    }
    album++;
  }
  // A few broken files, as every real library has: empty, cut short, not audio at all.
  const brokenDir = path.join(dir, "Unsorted");
  await mkdir(brokenDir, { recursive: true });
  const flac = bases.get("flac")!;
  const brokenFiles: [string, Buffer][] = [
    ["empty.mp3", Buffer.alloc(0)],
    ["cut short.flac", flac.subarray(0, 60)],
    ["notes.ogg", Buffer.from("this is not an ogg file\n".repeat(40))],
    ["ringtone.m4a", Buffer.alloc(4096, 7)],
    ["partial download.mp3", Buffer.from("ID3\x04\x00\x00\x00\x00\x10\x00garbage", "latin1")],
  ];
  for (const [name, bytes] of brokenFiles) {
    const file = path.join(brokenDir, name);
    await writeFile(file, bytes);
    broken.push(file);
  }
  return { files, broken, albums: album };
}
