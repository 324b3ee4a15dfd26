import { Audio, Create } from "@fedify/vocab";
import { describe, expect, it } from "vitest";
import { FUNKWHALE_CONTEXT_URL } from "../../federation/contexts/funkwhale.ts";
import { safeDocumentLoader } from "../../federation/backends/safe-document-loader.ts";

// Funkwhale's context is served from our copy, never fetched: a loader whose policy refuses every address
// still has it, and Fedify reads a 1.4 pod's Audio (integer duration included) with it.

const offline = safeDocumentLoader({ policy: { allowPrivateAddress: false, userAgent: "test", classify: () => "loopback" } });

/** An Audio in the keys a Funkwhale 1.4 pod sends (funkwhale-federation.md §3.2, §3.3). */
const audio = {
  "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1", "https://funkwhale.audio/ns",
    { manuallyApprovesFollowers: "as:manuallyApprovesFollowers", Hashtag: "as:Hashtag" }],
  type: "Audio",
  id: "https://pod.example/federation/music/uploads/6f1c0d38-5e5b-4a53-9f0b-1f6f0e1c8a11",
  library: "https://pod.example/federation/music/libraries/0b1c1f52-3b0e-4d8e-8a5a-6f3f4a8f9d10",
  name: "The Band - First Record - One",
  published: "2024-05-01T10:00:00+00:00",
  bitrate: 128000,
  size: 3_600_000,
  duration: 228,
  url: [{ type: "Link", href: "https://pod.example/api/v1/listen/x/?upload=6f1c", mediaType: "audio/mpeg" }],
  track: {
    type: "Track", id: "https://pod.example/federation/music/tracks/1", name: "One", position: 1, disc: 1,
    musicbrainzId: null, published: "2024-05-01T10:00:00+00:00",
    artists: [{ type: "Artist", id: "https://pod.example/federation/music/artists/1", name: "The Band", published: "2024-05-01T10:00:00+00:00" }],
    album: { type: "Album", id: "https://pod.example/federation/music/albums/1", name: "First Record", released: "2024-01-01", artists: [] },
  },
};

describe("Funkwhale's JSON-LD context", () => {
  it("is served from our copy, with no request", async () => {
    const loaded = await offline(FUNKWHALE_CONTEXT_URL);
    expect(loaded.documentUrl).toBe(FUNKWHALE_CONTEXT_URL);
    expect(loaded.document).toMatchObject({ "@context": { fw: "https://funkwhale.audio/ns#", Library: "fw:Library", bitrate: { "@id": "fw:bitrate" } } });
  });

  it("lets Fedify read a 1.4 pod's Audio with an integer duration, alone and inside a Create", async () => {
    // Without our copy the context is unreachable here, and the document unreadable.
    const withoutCopy = async (url: string) => {
      if (url === FUNKWHALE_CONTEXT_URL) throw new Error(`${url} is unreachable`);
      return offline(url);
    };
    await expect(Audio.fromJsonLd(audio, { documentLoader: withoutCopy, contextLoader: withoutCopy })).rejects.toThrow();

    const options = { documentLoader: offline, contextLoader: offline };
    const parsed = await Audio.fromJsonLd(audio, options);
    expect(parsed.id?.href).toBe(audio.id);
    expect(parsed.name?.toString()).toBe(audio.name);
    // The integer is Funkwhale's own term here, not as:duration: Fedify leaves it to the raw JSON.
    expect(parsed.duration).toBeNull();
    const { "@context": context, ...embedded } = audio;
    const create = await Create.fromJsonLd({ "@context": context, type: "Create", actor: "https://pod.example/federation/actors/bob", object: embedded }, options);
    expect(create.objectId?.href).toBe(audio.id);
  });
});
