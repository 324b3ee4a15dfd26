/** What the importer needs from one audio file, whatever its format. Produced by readTags (tag-reader.ts). */

export interface ArtistCreditTag {
  name: string;
  /** MusicBrainz artist id, when the file carries one for this artist. */
  mbid: string | null;
  /** Text shown after this artist's name ("", " feat. ", " & ", ", "). The last credit's is "". */
  joinPhrase: string;
}

export interface ReplayGain {
  trackGain: number | null;
  trackPeak: number | null;
  albumGain: number | null;
  albumPeak: number | null;
}

export interface EmbeddedPicture {
  data: Uint8Array;
  /** MIME type as stated by the file, e.g. image/jpeg. */
  format: string;
}

export interface TrackTags {
  title: string | null;
  /** Track artists in display order; several when the file has ARTISTS or a "feat." credit. */
  artists: ArtistCreditTag[];
  albumArtists: ArtistCreditTag[];
  album: string | null;
  trackNumber: number | null;
  trackTotal: number | null;
  discNumber: number | null;
  discTotal: number | null;
  year: number | null;
  /** ISO 8601 date or partial date (YYYY, YYYY-MM, YYYY-MM-DD) as found. */
  date: string | null;
  genres: string[];
  mbids: {
    recording: string | null;
    track: string | null;
    release: string | null;
    releaseGroup: string | null;
  };
  compilation: boolean;
  durationSeconds: number | null;
  /** Bits per second. */
  bitrate: number | null;
  sampleRate: number | null;
  bitDepth: number | null;
  channels: number | null;
  /** e.g. MPEG 1 Layer 3, FLAC, Vorbis I, Opus, AAC, PCM. */
  codec: string | null;
  /** The MIME type we serve the file as (audio/mpeg, audio/flac, audio/ogg, audio/mp4, audio/wav, ...). */
  mimeType: string;
  lossless: boolean;
  replayGain: ReplayGain;
  lyrics: { text: string; synced: boolean } | null;
  /**
   * Set when neither the tags nor the file's folders name its title and album: such a file is a track of
   * its own, never matched to another by the title its file name gave it (only the same bytes are one).
   */
  identifiedByBytesOnly?: boolean;
  /** The front cover (or first picture) embedded in the file. */
  picture: EmbeddedPicture | null;
}
