import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks, type SeededTrack } from "../helpers/factories.ts";

// A public library's Funkwhale-shaped collection, read unsigned as a follower's scan would: the
// collection, then `first`, then `next` until there is none.

const AP = "application/activity+json";
const PAGE_SIZE = 50;
const ARTIST_MBID = "b10bbbfc-cf9e-42e0-be17-e2c3e1d2600d";
const ALBUM_MBID = "1b022e01-4da6-387b-8658-8678046e4cef";
let app: TestApp;
let owner: TestClient;
let anonymous: TestClient;
let library: { id: string; actorId: string };
let seeded: SeededTrack[];

const fetchDoc = async (url: string) => {
  const res = await anonymous.get(new URL(url).pathname + new URL(url).search, { accept: AP });
  return { status: res.status, body: typeof res.body === "string" ? JSON.parse(res.body) : res.body };
};

beforeAll(async () => {
  app = await startTestApp();
  owner = new TestClient(app.url);
  anonymous = new TestClient(app.url);
  await owner.signup("owner");
  library = (await owner.post("/api/v1/libraries", { name: "Shared", description: "For friends", privacy: "public" })).body;
  const cover = await makeCoverImage(120, 120, "jpeg");
  seeded = await seedTracks(app, library.id, [
    {
      name: "first",
      cover,
      tags: {
        TITLE: "Come Together", ARTIST: "The Beatles", ALBUMARTIST: "The Beatles", ALBUM: "Abbey Road", TRACKNUMBER: "1",
        DISCNUMBER: "1", DATE: "1969-09-26", MUSICBRAINZ_ARTISTID: ARTIST_MBID, MUSICBRAINZ_ALBUMARTISTID: ARTIST_MBID,
        MUSICBRAINZ_ALBUMID: ALBUM_MBID,
      },
    },
    ...Array.from({ length: PAGE_SIZE + 11 }, (_, i) => ({
      name: `filler${i}`,
      tags: { TITLE: `Filler ${i}`, ARTIST: "Band", ALBUMARTIST: "Band", ALBUM: "Fillers", TRACKNUMBER: String(i + 1) },
    })),
  ]);
});
afterAll(() => app.close());

const collectionUrl = () => `${TEST_ORIGIN}/federation/libraries/${library.id}`;

describe("a public library's collection", () => {
  it("is linked from the library actor and has Funkwhale's keys and counts", async () => {
    const actor = await fetchDoc(library.actorId);
    expect(actor.body.streams).toEqual(collectionUrl());

    const { status, body } = await fetchDoc(collectionUrl());
    expect(status).toBe(200);
    expect(body["@context"]).toContain("https://funkwhale.audio/ns");
    expect(body).toMatchObject({
      type: "Library",
      id: collectionUrl(),
      name: "Shared",
      summary: "For friends",
      totalItems: seeded.length,
      first: `${collectionUrl()}?page=1`,
      current: `${collectionUrl()}?page=1`,
      last: `${collectionUrl()}?page=2`,
      followers: `${library.actorId}/followers`,
      audience: "https://www.w3.org/ns/activitystreams#Public",
      // The library's own actor speaks for it (Funkwhale: the sender of Create(Audio) must be attributedTo).
      attributedTo: library.actorId,
    });
  });

  it("lists every finished upload once when walked by next from first", async () => {
    // An unfinished upload is not listed.
    await app.db.pool.query("UPDATE upload SET status = 'errored' WHERE id = $1", [seeded.at(-1)!.uploadId]);
    try {
      const seen: string[] = [];
      let url: string | undefined = (await fetchDoc(collectionUrl())).body.first;
      let previous: string | undefined;
      while (url) {
        const { status, body } = await fetchDoc(url);
        expect(status).toBe(200);
        expect(body).toMatchObject({ type: "CollectionPage", id: url, partOf: collectionUrl(), totalItems: seeded.length - 1 });
        expect(body.prev).toBe(previous);
        expect(body.items.length).toBeLessThanOrEqual(PAGE_SIZE);
        seen.push(...body.items.map((item: { id: string }) => item.id));
        previous = url;
        url = body.next;
      }
      const expected = seeded.slice(0, -1).map((s) => `${TEST_ORIGIN}/federation/uploads/${s.uploadId}`);
      expect(seen).toHaveLength(expected.length);
      expect(new Set(seen)).toEqual(new Set(expected));
      expect((await fetchDoc(`${collectionUrl()}?page=3`)).status).toBe(404);
    } finally {
      await app.db.pool.query("UPDATE upload SET status = 'finished' WHERE id = $1", [seeded.at(-1)!.uploadId]);
    }
  });

  it("embeds the track, album and artists Funkwhale reads in each Audio", async () => {
    const pages = [(await fetchDoc(`${collectionUrl()}?page=1`)).body, (await fetchDoc(`${collectionUrl()}?page=2`)).body];
    const audio = pages.flatMap((p) => p.items).find((item: { id: string }) => item.id.endsWith(seeded[0]!.uploadId));
    const artist = { type: "Artist", name: "The Beatles", musicbrainzId: ARTIST_MBID };
    expect(audio).toMatchObject({
      type: "Audio",
      library: collectionUrl(),
      name: "The Beatles - Abbey Road - Come Together",
      url: [{ type: "Link", href: `${TEST_ORIGIN}/federation/media/${seeded[0]!.uploadId}`, mediaType: "audio/mpeg" }],
      to: "https://www.w3.org/ns/activitystreams#Public",
      duration: 2,
      bitrate: 64_000,
      size: expect.any(Number),
      track: {
        type: "Track",
        id: `${TEST_ORIGIN}/federation/tracks/${seeded[0]!.trackId}`,
        name: "Come Together",
        position: 1,
        disc: 1,
        artists: [artist],
        artist_credit: [{ type: "ArtistCredit", credit: "The Beatles", joinphrase: "", index: 0, artist }],
        album: {
          type: "Album",
          name: "Abbey Road",
          musicbrainzId: ALBUM_MBID,
          released: "1969-09-26",
          artists: [artist],
          cover: { type: "Link", mediaType: "image/jpeg" },
          image: { type: "Image", mediaType: "image/jpeg" },
        },
      },
    });
    // The audio link answers unsigned with the bytes.
    const stream = await anonymous.get(new URL(audio.url[0].href).pathname);
    expect(stream.status).toBe(200);
    const cover = await anonymous.get(new URL(audio.track.album.cover.href).pathname);
    expect(cover.status).toBe(200);
  });

  it("answers 400 for a malformed page", async () => {
    const res = await fetchDoc(`${collectionUrl()}?page=zero`);
    expect(res.status).toBe(400);
    expect(res.body).toHaveProperty("error");
  });
});

describe("a private library's collection", () => {
  it("tells anyone holding its URL what it is, and answers its pages unsigned as a missing library's", async () => {
    const hidden = (await owner.post("/api/v1/libraries", { name: "Mine", privacy: "private" })).body;
    await seedTracks(app, hidden.id, [{ name: "secret", tags: { TITLE: "Secret", ARTIST: "Me", ALBUM: "Demos" } }]);
    const root = await fetchDoc(`${TEST_ORIGIN}/federation/libraries/${hidden.id}`);
    expect(root.status).toBe(200);
    expect(root.body).toMatchObject({ type: "Library", name: "Mine", totalItems: 1, audience: "" });
    const missing = await fetchDoc(`${TEST_ORIGIN}/federation/libraries/00000000-0000-4000-8000-000000000000`);
    expect(missing.status).toBe(404);
    for (const path of ["?page=1", "?page=zero"]) {
      const res = await fetchDoc(`${TEST_ORIGIN}/federation/libraries/${hidden.id}${path}`);
      expect(res.status).toBe(404);
      expect(res.body).toEqual(missing.body);
    }
  });
});
