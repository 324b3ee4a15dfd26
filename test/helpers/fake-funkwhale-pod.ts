import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { actorOfKeyId, signatureHeaders, type SigningKey, verifySignature } from "../../core/fediverse/http-signatures.ts";
import { actorKeys } from "./actor-keys.ts";

// A Funkwhale pod (1.4 by default, or 2.0), in the shapes of ../shared/reference/funkwhale-federation.md
// §1.1 (actors, read unsigned), §1.3 (NodeInfo: only the 2.0 link, metadata.actorId = its service actor),
// §2.1-2.2 (Library, CollectionPage), §3.2-3.3 (Audio: integer duration and `artists` for 1.4, an
// xsd:duration and `artist_credit` for 2.0; Track) and §4 (the listen URL answers the whole file). It
// signs its POSTs as Funkwhale does (draft-cavage rsa-sha256 with a Digest). Every GET of a music
// document must be signed with a key `publicKeyOf` finds, or it answers 401; with `followersOnly`, the
// signer must also be an approved follower (403 otherwise), as for a Funkwhale library that is not
// public. Its shared inbox takes only draft-cavage rsa-sha256 signatures (403 otherwise, as Funkwhale).

type Json = Record<string, unknown>;

export const FUNKWHALE_CONTEXT = [
  "https://www.w3.org/ns/activitystreams",
  "https://w3id.org/security/v1",
  "https://funkwhale.audio/ns",
  { manuallyApprovesFollowers: "as:manuallyApprovesFollowers", Hashtag: "as:Hashtag" },
];

export interface InboxDelivery {
  path: string;
  keyId: string;
  activity: Json;
}

export interface FakeFunkwhalePod {
  origin: string;
  /** NodeInfo software.version: "1.4.0" or "2.0.0-alpha.1". */
  version: string;
  /** Actors whose GETs of the library's pages, Audio and media are served when `followersOnly`. */
  approved: Set<string>;
  followersOnly: boolean;
  /** Signed POSTs its inboxes took, in order. */
  inbox: InboxDelivery[];
  /** A signed GET of `url` as Funkwhale makes one: Accept activity+json (none for media), no Range. */
  get(url: string, key: SigningKey, options?: { media?: boolean }): Promise<Response>;
  actorId(name: string): string;
  key(name: string): SigningKey;
  libraryFid: string;
  /** The paths of the GETs it answered (signed by a follower), in order. */
  gets: string[];
  /** A new upload of `bob`'s library, served from now on; its Audio document (without @context). */
  addAudio(spec: { title: string; artist: string; album: string; duration?: number; bytes?: Buffer }): Json;
  /** The Audio objects listed in the library, newest first. */
  items: Json[];
  removeAudio(id: string): void;
  /** A served document (Track, Library...), to change between activities. */
  document(id: string): Json | undefined;
  /** A POST of `activity` to `url`, signed by `key`; `tamper` changes the body after signing. */
  post(url: string, activity: unknown, key: SigningKey, options?: { tamper?: (body: string) => string }): Promise<Response>;
  close(): Promise<void>;
}

const PAGE_SIZE = 2;
const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";
/** Actors of type Service: its own service actor, and another it runs (a bot, say) that speaks for nothing. */
const SERVICE_NAMES = new Set(["service", "radio"]);

/** The xsd:duration 2.0 writes ("PT3M48S"). */
const isoDuration = (seconds: number) => `PT${Math.floor(seconds / 60)}M${seconds % 60}S`;

export async function startFakeFunkwhalePod(options: {
  publicKeyOf: (keyId: string) => Promise<JsonWebKey | null>;
  version?: string;
}): Promise<FakeFunkwhalePod> {
  const keysOf = actorKeys();
  const documents = new Map<string, Json>();
  const media = new Map<string, Buffer>();
  const pod = { gets: [] as string[], inbox: [] as InboxDelivery[], items: [] as Json[], approved: new Set<string>(), followersOnly: false } as FakeFunkwhalePod;
  pod.version = options.version ?? "1.4.0";
  const v2 = pod.version.startsWith("2");
  const actorId = (name: string) => `${pod.origin}/federation/actors/${name}`;
  const pageUrl = (n: number) => `${pod.libraryFid}?page=${n}`;
  const headersOf = (req: http.IncomingMessage) =>
    Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v]));
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, pod.origin);
    const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/activity+json" }).end(JSON.stringify(body));
    if (req.method === "POST" && (url.pathname === "/federation/shared/inbox" || /^\/federation\/actors\/[a-z0-9_-]+\/inbox$/.test(url.pathname))) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = headersOf(req);
      // Funkwhale reads the Signature header only, and refuses hs2019 (and RFC 9421, which it does not know).
      if (!/algorithm="rsa-sha256"/.test(headers.signature ?? "")) return send(403, { detail: "Unsupported signature" });
      const verified = await verifySignature({ method: "POST", url, headers }, options.publicKeyOf);
      if (!verified.ok) return send(403, { detail: verified.reason });
      pod.inbox.push({ path: url.pathname, keyId: verified.keyId, activity: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Json });
      return send(200, {});
    }
    if (req.method !== "GET") return send(405, { detail: "Method not allowed" });
    if (url.pathname === "/.well-known/nodeinfo") {
      return send(200, { links: [{ rel: "http://nodeinfo.diaspora.software/ns/schema/2.0", href: `${pod.origin}/api/v1/instance/nodeinfo/2.0/` }] });
    }
    if (url.pathname === "/api/v1/instance/nodeinfo/2.0/") {
      return send(200, {
        version: "2.0",
        software: { name: "funkwhale", version: pod.version },
        protocols: ["activitypub"],
        services: { outbound: [], inbound: [] },
        openRegistrations: false,
        usage: { users: { total: 2, activeHalfyear: 2, activeMonth: 1 } },
        metadata: {
          actorId: actorId("service"),
          nodeName: "A fake pod",
          library: { federationEnabled: true, anonymousCanListen: false },
          endpoints: { knownNodes: null, channels: `${pod.origin}/federation/index/channels`, libraries: `${pod.origin}/federation/index/libraries` },
        },
      });
    }
    // The public index of its public libraries (IndexViewSet.libraries), readable unsigned: one page here.
    if (url.pathname === "/federation/index/libraries") {
      const id = `${pod.origin}/federation/index/libraries`;
      const library = documents.get(pod.libraryFid)!;
      const items = library.audience === PUBLIC ? [{ ...library, totalItems: pod.items.length }] : [];
      const links = { totalItems: items.length, first: `${id}?page=1`, last: `${id}?page=1` };
      if (!url.searchParams.has("page")) return send(200, { "@context": FUNKWHALE_CONTEXT, type: "Collection", id, ...links });
      return send(200, { "@context": FUNKWHALE_CONTEXT, type: "CollectionPage", id: `${id}?page=1`, partOf: id, ...links, items });
    }
    const name = /^\/federation\/actors\/([a-z0-9_-]+)$/.exec(url.pathname)?.[1];
    if (name) {
      const id = actorId(name);
      return send(200, {
        "@context": FUNKWHALE_CONTEXT,
        id,
        outbox: `${id}/outbox`,
        inbox: `${id}/inbox`,
        preferredUsername: name,
        type: SERVICE_NAMES.has(name) ? "Service" : "Person",
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
    const verified = await verifySignature({ method: "GET", url, headers: headersOf(req) }, options.publicKeyOf);
    if (!verified.ok) return send(401, { detail: verified.reason });
    pod.gets.push(url.pathname + url.search);
    const isRoot = `${pod.origin}${url.pathname}` === pod.libraryFid && !url.search;
    if (!isRoot && pod.followersOnly && !pod.approved.has(actorOfKeyId(verified.keyId))) return send(403, { detail: "You do not have permission" });
    const bytes = url.pathname.startsWith("/api/v1/listen/") ? media.get(url.searchParams.get("upload") ?? "") : undefined;
    if (bytes) return res.writeHead(200, { "content-type": "audio/mpeg", "content-length": bytes.length }).end(bytes);
    if (`${pod.origin}${url.pathname}` === pod.libraryFid && url.searchParams.has("page")) {
      const page = Number(url.searchParams.get("page"));
      const pages = Math.max(1, Math.ceil(pod.items.length / PAGE_SIZE));
      if (!(page >= 1 && page <= pages)) return send(404, { detail: "Invalid page." });
      return send(200, {
        "@context": FUNKWHALE_CONTEXT,
        type: "CollectionPage",
        id: pageUrl(page),
        partOf: pod.libraryFid,
        totalItems: pod.items.length,
        first: pageUrl(1),
        last: pageUrl(pages),
        attributedTo: actorId("bob"),
        name: documents.get(pod.libraryFid)!.name,
        ...(page > 1 ? { prev: pageUrl(page - 1) } : {}),
        ...(page < pages ? { next: pageUrl(page + 1) } : {}),
        items: pod.items.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE),
      });
    }
    const document = documents.get(`${pod.origin}${url.pathname}`);
    if (isRoot && document) document.totalItems = pod.items.length;
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
    addAudio(spec: { title: string; artist: string; album: string; duration?: number; bytes?: Buffer }): Json {
      const upload = randomUUID();
      const trackUuid = randomUUID();
      const artists = [artist(spec.artist)];
      // 2.0 credits artists (and requires it); 1.4 lists them.
      const credits = v2
        ? { artist_credit: [{ type: "ArtistCredit", id: `${origin}/federation/music/artistcredit/${randomUUID()}`, artist: artists[0], joinphrase: "", credit: spec.artist, index: 0, published: "2024-01-01T00:00:00Z" }] }
        : { artists };
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
        ...credits,
        album: {
          type: "Album",
          id: `${origin}/federation/music/albums/${randomUUID()}`,
          name: spec.album,
          published: "2024-01-01T00:00:00Z",
          musicbrainzId: null,
          attributedTo: null,
          tag: [],
          released: "2020-01-01",
          ...credits,
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
        duration: v2 ? isoDuration(spec.duration ?? 228) : (spec.duration ?? 228),
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
      if (spec.bytes) media.set(upload, spec.bytes);
      pod.items.unshift(audio);
      return audio;
    },
    removeAudio(id: string) {
      documents.delete(id);
      pod.items = pod.items.filter((item) => item.id !== id);
    },
    get(url: string, key: SigningKey, getOptions: { media?: boolean } = {}) {
      // Funkwhale's media download sends no Accept, and an odd Content-Type (§4).
      const accept: Record<string, string> = getOptions.media ? { "content-type": "application/octet-stream" } : { accept: "application/activity+json" };
      return fetch(url, { headers: { ...signatureHeaders("GET", new URL(url), key), ...accept } });
    },
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
