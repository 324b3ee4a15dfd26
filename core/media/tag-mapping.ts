/**
 * music-metadata's result -> TrackTags: one place for the rules that make tags from different formats and
 * taggers look alike (credits, genres, dates, ids, lyrics, covers).
 */
import { TimestampFormat, type IAudioMetadata, type ILyricsTag, type IPicture, type IRatio } from "music-metadata";
import { artistCredits, cleanList, cleanText } from "./artist-credits.ts";
import type { ArtistCreditTag, EmbeddedPicture, ReplayGain, TrackTags } from "./tags.ts";

/** What the reader measured itself, where music-metadata would have to read the whole file. */
export interface FormatFacts {
  mimeType: string;
  durationSeconds: number | null;
  bitrate: number | null;
}

/** music-metadata's names where a plainer one exists (65534 is WAVE_FORMAT_EXTENSIBLE, in practice PCM). */
const CODEC_NAMES: Record<string, string> = { "MPEG-4/AAC": "AAC", "non-PCM (65534)": "PCM" };

/** MusicBrainz's "Various Artists". */
const VARIOUS_ARTISTS_MBID = "89ad4ac3-39f7-470e-963a-56509c546377";

export function toTrackTags(metadata: IAudioMetadata, facts: FormatFacts, genreSeparators?: string): Omit<TrackTags, "lyrics"> {
  const { common, format } = metadata;
  const albumArtists = credits(metadata, "albumartist");
  const date = isoDate(common.date) ?? isoDate(common.year === undefined ? undefined : String(common.year));
  const opus = format.codec === "Opus";
  return {
    title: cleanText(common.title),
    artists: credits(metadata, "artist"),
    albumArtists,
    album: cleanText(common.album),
    trackNumber: count(common.track.no),
    trackTotal: count(common.track.of),
    discNumber: count(common.disk.no),
    discTotal: count(common.disk.of),
    year: date ? Number(date.slice(0, 4)) : null,
    date,
    genres: genres(common.genre, genreSeparators),
    mbids: {
      recording: cleanText(common.musicbrainz_recordingid),
      track: cleanText(common.musicbrainz_trackid),
      release: cleanText(common.musicbrainz_albumid),
      releaseGroup: cleanText(common.musicbrainz_releasegroupid),
    },
    compilation: common.compilation === true || albumArtists.some(isVariousArtists),
    durationSeconds: positive(facts.durationSeconds, 1000),
    bitrate: positive(facts.bitrate, 1),
    // Opus always decodes at 48 kHz; its header's "input sample rate" only records what the encoder was fed.
    sampleRate: opus ? 48_000 : positive(format.sampleRate, 1),
    bitDepth: format.lossless ? positive(format.bitsPerSample, 1) : null,
    channels: positive(format.numberOfChannels, 1),
    codec: CODEC_NAMES[format.codec ?? ""] ?? cleanText(format.codec),
    mimeType: facts.mimeType,
    lossless: format.lossless === true,
    replayGain: replayGain(metadata),
    picture: frontCover(common.picture),
  };
}

function isVariousArtists(credit: ArtistCreditTag): boolean {
  return credit.mbid === VARIOUS_ARTISTS_MBID || credit.name.toLowerCase() === "various artists";
}

/** Values of a native tag, whatever the tag type spells it as (case-insensitive), from the first type that has it. */
function nativeValues(metadata: IAudioMetadata, ids: string[]): string[] {
  const wanted = new Set(ids.map((id) => id.toLowerCase()));
  for (const tags of Object.values(metadata.native)) {
    const values = tags.filter((tag) => wanted.has(tag.id.toLowerCase())).map((tag) => tag.value);
    if (values.length > 0) return cleanList(values);
  }
  return [];
}

const PLURAL_IDS = {
  artist: ["ARTISTS", "TXXX:ARTISTS", "----:com.apple.iTunes:ARTISTS"],
  albumartist: ["ALBUMARTISTS", "TXXX:ALBUMARTISTS", "----:com.apple.iTunes:ALBUMARTISTS"],
};
/** ID3v2.2/2.3 frames music-metadata splits on "/" (Picard's old multi-value separator). */
const SLASH_SPLIT_IDS = { artist: ["TPE1", "TP1"], albumartist: ["TPE2", "TP2"] };

/**
 * The names come from the multi-valued tag when there is one, else from several values of the singular tag
 * (repeated Vorbis comments, ID3v2.4 null-separated values); the display string from the singular tag.
 */
function credits(metadata: IAudioMetadata, kind: "artist" | "albumartist"): ArtistCreditTag[] {
  const { common } = metadata;
  const plural = kind === "artist" ? common.artists : common.albumartists;
  const mbids = cleanList(kind === "artist" ? common.musicbrainz_artistid : common.musicbrainz_albumartistid);
  let display = cleanText(common[kind]);
  let names = nativeValues(metadata, PLURAL_IDS[kind]);
  if (metadata.format.tagTypes.some((type) => type === "ID3v2.3" || type === "ID3v2.2")) {
    // Old ID3 has no multi-value separator, and music-metadata splits some frames on "/", so "AC/DC"
    // arrives as ["AC", "DC"]: rejoin it. Only MusicBrainz ids, one per part, prove "A/B" is two artists.
    const slashSplit = nativeValues(metadata, SLASH_SPLIT_IDS[kind]);
    if (slashSplit.length > 1) display = slashSplit.join("/");
    const parts = cleanList(display?.split("/"));
    if (names.length === 0 && parts.length > 1 && parts.length === mbids.length) names = parts;
  } else if (names.length === 0 && (plural?.length ?? 0) > 1) {
    names = cleanList(plural);
  }
  return artistCredits(display, names, mbids);
}

/** Track and disc numbers: 0 is allowed (MusicBrainz numbers a hidden pregap track 0); nonsense is not. */
function count(value: number | null): number | null {
  return value !== null && Number.isInteger(value) && value >= 0 && value <= 65_535 ? value : null;
}

function positive(value: number | null | undefined, precision: number): number | null {
  if (value === null || value === undefined || !Number.isFinite(value) || value <= 0) return null;
  return Math.round(value * precision) / precision;
}

/** YYYY, YYYY-MM or YYYY-MM-DD from the start of a date tag ("2021-05-04T10:00", "2021/05/04", "2021"). */
export function isoDate(value: string | undefined): string | null {
  const match = cleanText(value)?.match(/^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?/u);
  if (!match || match[1] === "0000") return null;
  const [, year, month, day] = match;
  if (!month || Number(month) < 1 || Number(month) > 12) return year!;
  const yearMonth = `${year}-${month.padStart(2, "0")}`;
  if (!day || Number(day) < 1 || Number(day) > 31) return yearMonth;
  return `${yearMonth}-${day.padStart(2, "0")}`;
}

/** Characters that split one genre tag into several unless configured otherwise (GENRE_SEPARATORS). */
export const DEFAULT_GENRE_SEPARATORS = ";";

/**
 * Several genre tags (each its own genre), or one "Rock; Pop" string split on `separators` (each character
 * one; not "/" by default: "Singer/Songwriter" is one genre); duplicates dropped whatever their case.
 */
export function genres(values: readonly string[] | undefined, separators = DEFAULT_GENRE_SEPARATORS): string[] {
  const splitters = [...separators, "\0"];
  const split = (value: string) => splitters.reduce((parts, c) => parts.flatMap((part) => part.split(c)), [value]);
  const seen = new Set<string>();
  const result: string[] = [];
  for (const genre of cleanList((values ?? []).flatMap(split))) {
    const key = genre.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      result.push(genre);
    }
  }
  return result;
}

function gain(ratio: IRatio | undefined, unit: "dB" | "ratio"): number | null {
  const value = ratio?.[unit];
  return value !== undefined && Number.isFinite(value) ? value : null;
}

/** R128_*_GAIN (Opus taggers): Q7.8 dB relative to -23 LUFS; ReplayGain's reference is 5 dB louder. */
function r128(metadata: IAudioMetadata, id: string): number | null {
  const [raw] = nativeValues(metadata, [id]);
  const value = Number(raw);
  return raw !== undefined && Number.isFinite(value) ? value / 256 + 5 : null;
}

function replayGain(metadata: IAudioMetadata): ReplayGain {
  const { common } = metadata;
  return {
    trackGain: gain(common.replaygain_track_gain, "dB") ?? r128(metadata, "R128_TRACK_GAIN"),
    trackPeak: gain(common.replaygain_track_peak, "ratio"),
    albumGain: gain(common.replaygain_album_gain, "dB") ?? r128(metadata, "R128_ALBUM_GAIN"),
    albumPeak: gain(common.replaygain_album_peak, "ratio"),
  };
}

/** The front cover, else the first picture; links ("-->") and empty pictures are not images. */
function frontCover(pictures: IPicture[] | undefined): EmbeddedPicture | null {
  const images = (pictures ?? []).flatMap((p) => {
    const format = imageFormat(p);
    return format ? [{ data: p.data, format, front: p.type?.toLowerCase() === "cover (front)" }] : [];
  });
  const picture = images.find((image) => image.front) ?? images[0];
  return picture ? { data: picture.data, format: picture.format } : null;
}

const IMAGE_MAGIC: [bytes: number[], format: string][] = [
  [[0x89, 0x50, 0x4e, 0x47], "image/png"],
  [[0xff, 0xd8, 0xff], "image/jpeg"],
  [[0x47, 0x49, 0x46, 0x38], "image/gif"],
  [[0x42, 0x4d], "image/bmp"],
];

/** The stated MIME type when it is one; taggers also write "PNG", "jpg" or nothing, so else the bytes decide. */
function imageFormat(picture: IPicture): string | null {
  if (picture.data.length === 0) return null;
  const stated = picture.format.toLowerCase();
  if (stated.startsWith("image/")) return stated;
  const isWebp = Buffer.from(picture.data.subarray(8, 12)).toString("latin1") === "WEBP";
  if (isWebp) return "image/webp";
  return IMAGE_MAGIC.find(([magic]) => magic.every((byte, i) => picture.data[i] === byte))?.[1] ?? null;
}

/** [mm:ss.xx] at the start of a line: LRC. */
const LRC_TIMESTAMP = /^\s*\[\d{1,3}:\d{2}(?:[.:]\d{1,3})?\]/mu;

export function lyricsFromText(text: string | null): TrackTags["lyrics"] {
  const cleaned = cleanText(text?.replace(/^\uFEFF/u, "").replace(/\r\n?/gu, "\n"));
  return cleaned ? { text: cleaned, synced: LRC_TIMESTAMP.test(cleaned) } : null;
}

/** Embedded lyrics; synchronised ones (SYLT, LRC in a LYRICS comment) come back as LRC text. */
export function embeddedLyrics(tags: ILyricsTag[] | undefined): TrackTags["lyrics"] {
  // ID3 USLT frames come without syncText, whatever the type says.
  const synced = tags?.find((t) => (t.syncText?.length ?? 0) > 0 && t.timeStampFormat === TimestampFormat.milliseconds);
  if (synced) {
    return lyricsFromText(synced.syncText.map((line) => `[${lrcTime(line.timestamp ?? 0)}]${line.text}`).join("\n"));
  }
  return lyricsFromText(tags?.find((t) => cleanText(t.text))?.text ?? null);
}

function lrcTime(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  const hundredths = Math.floor((ms % 1000) / 10);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(minutes)}:${two(seconds)}.${two(hundredths)}`;
}
