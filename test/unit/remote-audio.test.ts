import { describe, expect, it } from "vitest";
import { durationMs, InvalidRemoteAudio, parseRemoteAudio } from "../../core/fediverse/remote-audio.ts";

// Reading Funkwhale 1.4 and 2.0 Audio objects (../shared/reference/funkwhale-federation.md §3.2, §3.3).

const R = "https://pod.example";
const artist = (name: string, mbid: string | null = null) => ({ type: "Artist", id: `${R}/federation/music/artists/${name}`, name, musicbrainzId: mbid });

function audio(overrides: Record<string, unknown> = {}, track: Record<string, unknown> = {}) {
  return {
    type: "Audio",
    id: `${R}/federation/music/uploads/1`,
    library: `${R}/federation/music/libraries/1`,
    name: "A - B - C",
    published: "2024-01-01T00:00:00Z",
    bitrate: 320000,
    size: 9_000_000,
    duration: 228,
    url: [
      { type: "Link", href: `${R}/api/v1/listen/t/?upload=1&download=false`, mediaType: "audio/mpeg" },
      { type: "Link", mediaType: "text/html", href: `${R}/library/tracks/1` },
    ],
    track: {
      type: "Track",
      id: `${R}/federation/music/tracks/1`,
      name: "Song",
      musicbrainzId: "f7d2b5c2-0000-4000-8000-000000000001",
      position: 3,
      disc: 2,
      artists: [artist("Solo", "a0000000-0000-4000-8000-000000000001")],
      album: {
        type: "Album",
        id: `${R}/federation/music/albums/1`,
        name: "Record",
        released: "1999-05-04",
        musicbrainzId: "b0000000-0000-4000-8000-000000000002",
        artists: [artist("Solo")],
        image: { type: "Image", url: `${R}/media/cover.jpg`, mediaType: "image/jpeg" },
      },
      tag: [{ type: "Hashtag", name: "#Jazz" }],
      ...track,
    },
    ...overrides,
  };
}

describe("durationMs", () => {
  it("reads 1.4's integer seconds and 2.0's xsd:duration strings", () => {
    expect(durationMs(228)).toBe(228_000);
    expect(durationMs("228")).toBe(228_000);
    expect(durationMs("PT3M48S")).toBe(228_000);
    expect(durationMs("PT1H2M3.5S")).toBe(3_723_500);
    expect(durationMs("P0DT0H0M1S")).toBe(1_000);
    expect(durationMs("PT")).toBeNull();
    expect(durationMs("soon")).toBeNull();
    expect(durationMs(-4)).toBeNull();
    expect(durationMs(null)).toBeNull();
  });
});

describe("parseRemoteAudio", () => {
  it("reads a 1.4 Audio into tags and upload facts", () => {
    const parsed = parseRemoteAudio(audio());
    expect(parsed).toMatchObject({
      fid: `${R}/federation/music/uploads/1`,
      libraryFid: `${R}/federation/music/libraries/1`,
      sourceUrl: `${R}/api/v1/listen/t/?upload=1&download=false`,
      mimeType: "audio/mpeg",
      size: 9_000_000,
      bitrate: 320_000,
      durationMs: 228_000,
      name: "A - B - C",
      trackFid: `${R}/federation/music/tracks/1`,
      albumFid: `${R}/federation/music/albums/1`,
      artistFids: [`${R}/federation/music/artists/Solo`],
      coverUrl: `${R}/media/cover.jpg`,
    });
    expect(parsed.tags).toMatchObject({
      title: "Song",
      album: "Record",
      trackNumber: 3,
      discNumber: 2,
      year: 1999,
      date: "1999-05-04",
      genres: ["Jazz"],
      artists: [{ name: "Solo", mbid: "a0000000-0000-4000-8000-000000000001", joinPhrase: "" }],
      albumArtists: [{ name: "Solo", joinPhrase: "" }],
      mbids: { recording: "f7d2b5c2-0000-4000-8000-000000000001", release: "b0000000-0000-4000-8000-000000000002" },
    });
  });

  it("reads 2.0's artist_credit in index order with join phrases, a single Link, a string duration", () => {
    const credits = [
      { type: "ArtistCredit", artist: artist("Guest"), credit: "Guest", joinphrase: "", index: 1 },
      { type: "ArtistCredit", artist: artist("Lead"), credit: "Lead", joinphrase: " feat. ", index: 0 },
    ];
    const parsed = parseRemoteAudio(
      audio(
        { duration: "PT3M48S", url: { type: "Link", href: `${R}/listen/2`, mediaType: "audio/x-flac" } },
        { artists: undefined, artist_credit: credits },
      ),
    );
    expect(parsed.durationMs).toBe(228_000);
    expect(parsed.sourceUrl).toBe(`${R}/listen/2`);
    expect(parsed).toMatchObject({ mimeType: "audio/flac", lossless: true });
    expect(parsed.tags.artists).toEqual([
      { name: "Lead", mbid: null, joinPhrase: " feat. " },
      { name: "Guest", mbid: null, joinPhrase: "" },
    ]);
    expect(parsed.artistFids).toEqual([`${R}/federation/music/artists/Lead`, `${R}/federation/music/artists/Guest`]);
  });

  it("takes the audio link when an HTML link comes first, and the legacy cover Link", () => {
    const parsed = parseRemoteAudio(
      audio(
        { url: [{ type: "Link", mediaType: "text/html", href: `${R}/page` }, { type: "Link", href: `${R}/a.ogg`, mediaType: "audio/ogg" }] },
        { album: { type: "Album", id: `${R}/albums/2`, name: "X", artists: [artist("Solo")], cover: { type: "Link", href: `${R}/c.png` } } },
      ),
    );
    expect(parsed.sourceUrl).toBe(`${R}/a.ogg`);
    expect(parsed.coverUrl).toBe(`${R}/c.png`);
  });

  it("gives the same digest for the same Audio, another when it changes", () => {
    expect(parseRemoteAudio(audio()).digest).toBe(parseRemoteAudio(audio()).digest);
    expect(parseRemoteAudio(audio({ updated: "2025-01-01T00:00:00Z" })).digest).not.toBe(parseRemoteAudio(audio()).digest);
    expect(parseRemoteAudio(audio({}, { name: "Other" })).digest).not.toBe(parseRemoteAudio(audio()).digest);
  });

  it("refuses what cannot be played, naming the Audio when it has an id", () => {
    const refused = (value: unknown) => {
      try {
        parseRemoteAudio(value);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidRemoteAudio);
        return { fid: (error as InvalidRemoteAudio).fid, reason: (error as Error).message };
      }
      throw new Error("accepted");
    };
    expect(refused(audio({}, { name: " " }))).toEqual({ fid: `${R}/federation/music/uploads/1`, reason: "the track has no title" });
    expect(refused(audio({ url: [{ type: "Link", mediaType: "text/html", href: `${R}/page` }] })).reason).toBe("the Audio has no audio link");
    expect(refused(audio({ url: [{ type: "Link", mediaType: "audio/mpeg", href: "javascript:alert(1)" }] })).reason).toBe("the Audio has no audio link");
    expect(refused(audio({ track: undefined })).reason).toBe("the Audio embeds no track");
    expect(refused(audio({ id: undefined }))).toEqual({ fid: null, reason: "the Audio has no id" });
    expect(refused({ type: "Note", id: `${R}/n/1` }).reason).toBe("it is not an Audio object");
  });
});
