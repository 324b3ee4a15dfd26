import { describe, expect, it } from "vitest";
import { parseFileName, withFileNameTags } from "../../core/media/file-name-tags.ts";
import { withFolderTags } from "../../core/media/folder-tags.ts";
import { genres } from "../../core/media/tag-mapping.ts";
import type { TrackTags } from "../../core/media/tags.ts";

describe("parseFileName", () => {
  it.each([
    ["01 - Title.mp3", { title: "Title", trackNumber: 1, discNumber: null, artist: null }],
    ["01 Title.flac", { title: "Title", trackNumber: 1, discNumber: null, artist: null }],
    ["1. Title.ogg", { title: "Title", trackNumber: 1, discNumber: null, artist: null }],
    ["07-Title with - dash.opus", { title: "Title with - dash", trackNumber: 7, discNumber: null, artist: null }],
    ["12_-_Under_Scores.mp3", { title: "Under Scores", trackNumber: 12, discNumber: null, artist: null }],
    ["2-05 Second Disc.m4a", { title: "Second Disc", trackNumber: 5, discNumber: 2, artist: null }],
    ["Some Band - 03 - A Song.mp3", { title: "A Song", trackNumber: 3, discNumber: null, artist: "Some Band" }],
    ["07.mp3", { title: "07", trackNumber: 7, discNumber: null, artist: null }],
    ["2001 A Space Odyssey.flac", { title: "2001 A Space Odyssey", trackNumber: null, discNumber: null, artist: null }],
    ["Just a Title.wav", { title: "Just a Title", trackNumber: null, discNumber: null, artist: null }],
  ])("%s", (name, expected) => {
    expect(parseFileName(name)).toEqual(expected);
  });
});

describe("withFileNameTags", () => {
  const untagged: TrackTags = {
    title: null, artists: [], albumArtists: [], album: null, trackNumber: null, trackTotal: null, discNumber: null,
    discTotal: null, year: null, date: null, genres: [], mbids: { recording: null, track: null, release: null, releaseGroup: null },
    compilation: false, durationSeconds: 1, bitrate: null, sampleRate: 44_100, bitDepth: null, channels: 2, codec: "MPEG 1 Layer 3",
    mimeType: "audio/mpeg", lossless: false, replayGain: { trackGain: null, trackPeak: null, albumGain: null, albumPeak: null },
    lyrics: null, picture: null,
  };

  it("fills an untagged file's title, numbers and artist from its name", () => {
    const tags = withFileNameTags(untagged, "Some Band - 03 - A Song.mp3");
    expect([tags.title, tags.trackNumber, tags.artists]).toEqual(["A Song", 3, [{ name: "Some Band", mbid: null, joinPhrase: "" }]]);
  });

  it("keeps what the tags say, and takes only the missing number from the name", () => {
    const titled = { ...untagged, title: "Tagged Title", artists: [{ name: "Tagged", mbid: null, joinPhrase: "" }] };
    expect(withFileNameTags({ ...titled, trackNumber: 9 }, "01 - Other.mp3")).toMatchObject({ title: "Tagged Title", trackNumber: 9 });
    expect(withFileNameTags(titled, "Band - 04 - Other.mp3")).toMatchObject({ title: "Tagged Title", trackNumber: 4, artists: titled.artists });
  });

  it("leaves the number in a title that is the whole name", () => {
    const tags = withFileNameTags({ ...untagged, title: "99 Luftballons" }, "99 Luftballons.mp3");
    expect([tags.title, tags.trackNumber]).toEqual(["99 Luftballons", null]);
  });
});

describe("withFolderTags", () => {
  const untagged = withFileNameTags(
    {
      title: null, artists: [], albumArtists: [], album: null, trackNumber: null, trackTotal: null, discNumber: null,
      discTotal: null, year: null, date: null, genres: [], mbids: { recording: null, track: null, release: null, releaseGroup: null },
      compilation: false, durationSeconds: 1, bitrate: null, sampleRate: 44_100, bitDepth: null, channels: 2, codec: "FLAC",
      mimeType: "audio/flac", lossless: true, replayGain: { trackGain: null, trackPeak: null, albumGain: null, albumPeak: null },
      lyrics: null, picture: null,
    } satisfies TrackTags,
    "01 - Intro.flac",
  );
  const artist = (name: string) => [{ name, mbid: null, joinPhrase: "" }];

  it.each([
    [[], { album: null, discNumber: null, albumArtists: [] }],
    [["Album"], { album: "Album", discNumber: null, albumArtists: [] }],
    [["Artist", "Album"], { album: "Album", discNumber: null, albumArtists: artist("Artist") }],
    [["Music", "Artist", "Album", "CD2"], { album: "Album", discNumber: 2, albumArtists: artist("Artist") }],
    [["Disc 3"], { album: "Disc 3", discNumber: null, albumArtists: [] }],
  ])("names an untagged file's album from %j", (folders, expected) => {
    expect(withFolderTags(untagged, folders)).toMatchObject(expected);
  });

  it("never overrides a tag, and takes no artist from a folder when the file names one", () => {
    expect(withFolderTags({ ...untagged, album: "Tagged" }, ["Artist", "Album"])).toMatchObject({ album: "Tagged", albumArtists: [] });
    const named = withFolderTags({ ...untagged, artists: artist("Tagged") }, ["Artist", "Album"]);
    expect(named).toMatchObject({ album: "Album", artists: artist("Tagged"), albumArtists: [] });
  });
});

describe("genres", () => {
  it("splits on ';' and multi-value nulls by default, never on '/'", () => {
    expect(genres(["Singer/Songwriter", "Rock; Pop", "rock\u0000Jazz"])).toEqual(["Singer/Songwriter", "Rock", "Pop", "Jazz"]);
  });

  it("splits on each configured character", () => {
    expect(genres(["Rock/Pop, Jazz"], "/,")).toEqual(["Rock", "Pop", "Jazz"]);
  });
});
