import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { verifySignature } from "../../core/fediverse/http-signatures.ts";

// A remote Funkwhale/Polyphony library for scan tests, in the shapes of
// ../shared/reference/funkwhale-federation.md §2.1 (Library), §2.2 (CollectionPage), §3.2-3.3 (Audio,
// Track, Album, Artist). Every GET must carry a draft-cavage signature that verifies with the key
// `publicKeyOf` finds (the follower's, from our database), or it answers 401 as Funkwhale does.

type Json = Record<string, unknown>;

export interface FakeRequest {
  path: string;
  keyId: string | null;
  verified: boolean;
  reason?: string;
}

export interface AudioSpec {
  title: string;
  artist: string;
  album: string;
  position?: number | null;
  disc?: number | null;
  /** Integer seconds (Funkwhale 1.4) or an xsd:duration string (2.0). */
  duration?: number | string;
  released?: string | null;
  /** 2.0 shapes: `artist_credit` only (no `artists`), and a single Link as `url`. */
  v2?: boolean;
  mediaType?: string;
  updated?: string;
}

export interface FakeLibraryServer {
  origin: string;
  actorFid: string;
  libraryFid: string;
  /** The listed Audio objects, newest first as Funkwhale lists them; change them between scans. */
  items: Json[];
  pageSize: number;
  requests: FakeRequest[];
  /** Answers a path (with its query) in place of the library: a status, a document, or raw text. */
  overrides: Map<string, () => { status: number; body?: unknown }>;
  /** Rewrites page `n` (1-based) before it is sent. */
  pageHook: ((n: number, page: Json) => Json) | null;
  audio(spec: AudioSpec): Json;
  pageUrl(n: number): string;
  close(): Promise<void>;
}

const CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1", "https://funkwhale.audio/ns"];
const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, "-");

export async function startFakeLibraryServer(options: {
  publicKeyOf: (keyId: string) => Promise<JsonWebKey | null>;
}): Promise<FakeLibraryServer> {
  const libraryUuid = randomUUID();
  const state = {} as FakeLibraryServer;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, state.origin);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v]));
    const verified = await verifySignature({ method: req.method!, url, headers }, options.publicKeyOf);
    const keyId = /keyId="([^"]+)"/.exec(headers.signature ?? "")?.[1] ?? null;
    state.requests.push({ path: url.pathname + url.search, keyId, verified: verified.ok, ...(verified.ok ? {} : { reason: verified.reason }) });
    const send = (status: number, body?: unknown) => {
      const text = typeof body === "string" ? body : JSON.stringify(body ?? {});
      res.writeHead(status, { "content-type": "application/activity+json" }).end(text);
    };
    if (!verified.ok) return send(401, { detail: verified.reason });
    const override = state.overrides.get(url.pathname + url.search);
    if (override) {
      const { status, body } = override();
      return send(status, body);
    }
    if (url.pathname !== new URL(state.libraryFid).pathname) return send(404, { detail: "Not found." });
    const pages = Math.max(1, Math.ceil(state.items.length / state.pageSize));
    const page = Number(url.searchParams.get("page") ?? 0);
    if (!page) {
      return send(200, {
        "@context": CONTEXT,
        type: "Library",
        id: state.libraryFid,
        attributedTo: state.actorFid,
        name: "Bob's music",
        summary: null,
        // Wrong on purpose, as Funkwhale's can be (its `last` assumes 100 a page): never to be trusted.
        totalItems: state.items.length + 7,
        first: state.pageUrl(1),
        current: state.pageUrl(1),
        last: state.pageUrl(pages + 3),
        audience: "",
        followers: `${state.libraryFid}/followers`,
      });
    }
    if (page > pages) return send(404, { detail: "Invalid page." });
    const document: Json = {
      "@context": CONTEXT,
      type: "CollectionPage",
      id: state.pageUrl(page),
      partOf: state.libraryFid,
      totalItems: state.items.length,
      first: state.pageUrl(1),
      last: state.pageUrl(pages),
      attributedTo: state.actorFid,
      name: "Bob's music",
      ...(page > 1 ? { prev: state.pageUrl(page - 1) } : {}),
      ...(page < pages ? { next: state.pageUrl(page + 1) } : {}),
      items: state.items.slice((page - 1) * state.pageSize, page * state.pageSize),
    };
    send(200, state.pageHook ? state.pageHook(page, document) : document);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const artist = (name: string) => ({
    type: "Artist",
    id: `${origin}/federation/music/artists/${slug(name)}`,
    name,
    published: "2024-01-01T00:00:00Z",
    musicbrainzId: null,
    attributedTo: null,
    image: null,
  });
  const credit = (name: string) => [
    { type: "ArtistCredit", id: `${origin}/federation/music/artistcredit/${slug(name)}`, artist: artist(name), joinphrase: "", credit: name, index: 0 },
  ];
  Object.assign(state, {
    origin,
    actorFid: `${origin}/federation/actors/bob`,
    libraryFid: `${origin}/federation/music/libraries/${libraryUuid}`,
    items: [],
    pageSize: 50,
    requests: [],
    overrides: new Map(),
    pageHook: null,
    pageUrl: (n: number) => `${origin}/federation/music/libraries/${libraryUuid}?page=${n}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    audio(spec: AudioSpec): Json {
      const upload = randomUUID();
      const track = randomUUID();
      const names = spec.v2 ? { artist_credit: credit(spec.artist) } : { artists: [artist(spec.artist)] };
      const audioLink = { type: "Link", href: `${origin}/api/v1/listen/${track}/?upload=${upload}&download=false`, mediaType: spec.mediaType ?? "audio/mpeg" };
      return {
        type: "Audio",
        id: `${origin}/federation/music/uploads/${upload}`,
        library: state.libraryFid,
        name: `${spec.artist} - ${spec.album} - ${spec.title}`,
        published: "2024-01-01T00:00:00Z",
        ...(spec.updated ? { updated: spec.updated } : {}),
        bitrate: 192_000,
        size: 5_000_000,
        duration: spec.duration ?? 200,
        url: spec.v2 ? audioLink : [audioLink, { type: "Link", mediaType: "text/html", href: `${origin}/library/tracks/${track}` }],
        to: "",
        attributedTo: state.actorFid,
        track: {
          type: "Track",
          id: `${origin}/federation/music/tracks/${track}`,
          name: spec.title,
          published: "2024-01-01T00:00:00Z",
          musicbrainzId: null,
          position: spec.position ?? null,
          disc: spec.disc ?? null,
          license: null,
          copyright: null,
          ...names,
          album: {
            type: "Album",
            id: `${origin}/federation/music/albums/${slug(spec.album)}`,
            name: spec.album,
            published: "2024-01-01T00:00:00Z",
            released: spec.released === undefined ? "2020-01-01" : spec.released,
            musicbrainzId: null,
            ...names,
            image: { type: "Image", url: `${origin}/media/attachments/${slug(spec.album)}.jpg`, mediaType: "image/jpeg" },
          },
          image: null,
        },
      };
    },
  });
  return state;
}
