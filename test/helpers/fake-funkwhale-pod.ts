import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { signatureHeaders, type SigningKey, verifySignature } from "../../core/fediverse/http-signatures.ts";
import { actorKeys } from "./actor-keys.ts";

// A Funkwhale 1.4 pod, in the shapes of ../shared/reference/funkwhale-federation.md §1.1 (actors, read
// unsigned), §2.1 (Library) and §3.2-3.3 (Audio with integer duration, `artists`, no `artist_credit`;
// Track), which signs its POSTs as Funkwhale does (draft-cavage rsa-sha256 with a Digest). Every GET of
// a music document must be signed with a key `publicKeyOf` finds (a follower's), or it answers 401.

type Json = Record<string, unknown>;

export const FUNKWHALE_CONTEXT = [
  "https://www.w3.org/ns/activitystreams",
  "https://w3id.org/security/v1",
  "https://funkwhale.audio/ns",
  { manuallyApprovesFollowers: "as:manuallyApprovesFollowers", Hashtag: "as:Hashtag" },
];

export interface FakeFunkwhalePod {
  origin: string;
  actorId(name: string): string;
  key(name: string): SigningKey;
  libraryFid: string;
  /** The paths of the GETs it answered (signed by a follower), in order. */
  gets: string[];
  /** A new upload of `bob`'s library, served from now on; its Audio document (without @context). */
  addAudio(spec: { title: string; artist: string; album: string; duration?: number }): Json;
  removeAudio(id: string): void;
  /** A served document (Track, Library...), to change between activities. */
  document(id: string): Json | undefined;
  /** A POST of `activity` to `url`, signed by `key`; `tamper` changes the body after signing. */
  post(url: string, activity: unknown, key: SigningKey, options?: { tamper?: (body: string) => string }): Promise<Response>;
  close(): Promise<void>;
}

export async function startFakeFunkwhalePod(options: { publicKeyOf: (keyId: string) => Promise<JsonWebKey | null> }): Promise<FakeFunkwhalePod> {
  const keysOf = actorKeys();
  const documents = new Map<string, Json>();
  const pod = { gets: [] as string[] } as FakeFunkwhalePod;
  const actorId = (name: string) => `${pod.origin}/federation/actors/${name}`;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, pod.origin);
    const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/activity+json" }).end(JSON.stringify(body));
    if (req.method !== "GET") return send(405, { detail: "Method not allowed" });
    const name = /^\/federation\/actors\/([a-z0-9_-]+)$/.exec(url.pathname)?.[1];
    if (name) {
      const id = actorId(name);
      return send(200, {
        "@context": FUNKWHALE_CONTEXT,
        id,
        outbox: `${id}/outbox`,
        inbox: `${id}/inbox`,
        preferredUsername: name,
        type: name === "service" ? "Service" : "Person",
        name,
        followers: `${id}/followers`,
        following: `${id}/following`,
        manuallyApprovesFollowers: false,
        url: [{ type: "Link", href: `${pod.origin}/@${name}`, mediaType: "text/html" }],
        icon: null,
        publicKey: { id: `${id}#main-key`, owner: id, publicKeyPem: keysOf(name).publicPem },
        endpoints: { sharedInbox: `${pod.origin}/federation/shared/inbox` },
      });
    }
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v]));
    const verified = await verifySignature({ method: "GET", url, headers }, options.publicKeyOf);
    if (!verified.ok) return send(401, { detail: verified.reason });
    pod.gets.push(url.pathname);
    const document = documents.get(`${pod.origin}${url.pathname}`);
    return document ? send(200, { "@context": FUNKWHALE_CONTEXT, ...document }) : send(404, { detail: "Not found." });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const libraryFid = `${origin}/federation/music/libraries/${randomUUID()}`;
  const bob = `${origin}/federation/actors/bob`;
  const artist = (artistName: string) => ({
    type: "Artist",
    id: `${origin}/federation/music/artists/${randomUUID()}`,
    name: artistName,
    published: "2024-01-01T00:00:00Z",
    musicbrainzId: null,
    attributedTo: null,
    tag: [],
    image: null,
  });
  documents.set(libraryFid, {
    type: "Library",
    id: libraryFid,
    attributedTo: bob,
    name: "Bob's music",
    summary: null,
    totalItems: 0,
    current: `${libraryFid}?page=1`,
    first: `${libraryFid}?page=1`,
    last: `${libraryFid}?page=1`,
    audience: "",
    followers: `${libraryFid}/followers`,
  });
  Object.assign(pod, {
    origin,
    actorId,
    libraryFid,
    key: (name: string) => ({ keyId: `${actorId(name)}#main-key`, privateJwk: keysOf(name).privateJwk }),
    addAudio(spec: { title: string; artist: string; album: string; duration?: number }): Json {
      const upload = randomUUID();
      const trackUuid = randomUUID();
      const artists = [artist(spec.artist)];
      const track: Json = {
        type: "Track",
        id: `${origin}/federation/music/tracks/${trackUuid}`,
        name: spec.title,
        published: "2024-01-01T00:00:00Z",
        musicbrainzId: null,
        attributedTo: null,
        tag: [],
        position: 1,
        disc: 1,
        license: null,
        copyright: null,
        artists,
        album: {
          type: "Album",
          id: `${origin}/federation/music/albums/${randomUUID()}`,
          name: spec.album,
          published: "2024-01-01T00:00:00Z",
          musicbrainzId: null,
          attributedTo: null,
          tag: [],
          released: "2020-01-01",
          artists,
        },
        image: null,
      };
      const audio: Json = {
        type: "Audio",
        id: `${origin}/federation/music/uploads/${upload}`,
        library: libraryFid,
        name: `${spec.artist} - ${spec.album} - ${spec.title}`,
        published: "2024-01-01T00:00:00Z",
        bitrate: 192_000,
        size: 5_000_000,
        duration: spec.duration ?? 228,
        url: [
          { type: "Link", href: `${origin}/api/v1/listen/${trackUuid}/?upload=${upload}&download=false`, mediaType: "audio/mpeg" },
          { type: "Link", mediaType: "text/html", href: `${origin}/library/tracks/${trackUuid}` },
        ],
        track,
        to: "",
        attributedTo: bob,
      };
      documents.set(audio.id as string, audio);
      documents.set(track.id as string, track);
      return audio;
    },
    removeAudio: (id: string) => void documents.delete(id),
    document: (id: string) => documents.get(id),
    post(url: string, activity: unknown, key: SigningKey, postOptions: { tamper?: (body: string) => string } = {}) {
      const body = JSON.stringify(activity);
      const headers = signatureHeaders("POST", new URL(url), key, body);
      return fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/activity+json" }, body: postOptions.tamper?.(body) ?? body });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
  return pod;
}
