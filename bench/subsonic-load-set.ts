// The Subsonic load set of the peer benchmark, the same calls against any Subsonic server (after the
// peers' subsonic-load.sh): ids found through the API, then ping, getArtists, getAlbumList2 (random,
// newest), search3, getAlbum, stream (the smallest files, raw) and getCoverArt (full and size=300).
import { runLoad, type Check } from "./load-generator.ts";
import { percentile } from "./bench-server.ts";

export interface EndpointFigures {
  endpoint: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

const COMMON = "v=1.16.1&c=bench&f=json";

interface Named {
  id: string;
  name: string;
  coverArt?: string;
}
/** The few fields of a Subsonic answer the load set reads (a loose shape: two servers answer it). */
interface Envelope {
  status: string;
  error?: unknown;
  artists: { index?: { artist?: Named[] }[] };
  albumList2: { album?: Named[] };
  album: { song?: { id: string; size: number }[] };
}

async function api(base: string, auth: string, method: string, query = ""): Promise<Envelope> {
  const res = await fetch(`${base}/rest/${method}.view?${auth}&${COMMON}${query ? `&${query}` : ""}`);
  const body = (await res.json())["subsonic-response"];
  if (body?.status !== "ok") throw new Error(`${method}: ${JSON.stringify(body?.error ?? res.status)}`);
  return body;
}

/** Up to `n` elements spread over `items`. */
function spread<T>(items: T[], n: number): T[] {
  const step = Math.max(1, Math.ceil(items.length / n));
  return items.filter((_, i) => i % step === 0);
}

/** Runs the set; `requests` measured requests per endpoint over `connections`, after a tenth as warm-up. */
export async function runLoadSet(base: string, auth: string, requests: number, connections = 8): Promise<EndpointFigures[]> {
  const artists = ((await api(base, auth, "getArtists")).artists.index ?? []).flatMap((i) => i.artist ?? []);
  const albums: Named[] = [];
  for (let offset = 0; offset < 20_000; offset += 500) {
    const page = (await api(base, auth, "getAlbumList2", `type=alphabeticalByName&size=500&offset=${offset}`)).albumList2.album ?? [];
    albums.push(...page);
    if (page.length < 500) break;
  }
  const songs: { id: string; size: number }[] = [];
  for (const album of spread(albums, 40)) songs.push(...((await api(base, auth, "getAlbum", `id=${encodeURIComponent(album.id)}`)).album.song ?? []));
  const smallest = songs.filter((s) => s.size > 0).sort((a, b) => a.size - b.size).slice(0, 20);
  const covers = albums.flatMap((a) => (a.coverArt ? [a.coverArt] : []));
  const words = spread(artists, 12).map((a) => a.name.split(/\s+/).find((w) => w.length >= 3)?.toLowerCase()).filter(Boolean);
  const url = (method: string, query = "") => `${base}/rest/${method}.view?${auth}&${COMMON}${query ? `&${query}` : ""}`;
  const subsonic: Check = { kind: "subsonic" };
  const sets: [string, string[], Check][] = [
    ["ping", [url("ping")], subsonic],
    ["getArtists", [url("getArtists")], subsonic],
    ["getAlbumList2 random", [url("getAlbumList2", "type=random&size=50")], subsonic],
    ["getAlbumList2 newest", [url("getAlbumList2", "type=newest&size=50")], subsonic],
    ["search3", [...words, "zzqxnomatch"].map((q) => url("search3", `query=${encodeURIComponent(q!)}&artistCount=20&albumCount=20&songCount=20`)), subsonic],
    ["getAlbum", spread(albums, 50).map((a) => url("getAlbum", `id=${encodeURIComponent(a.id)}`)), subsonic],
    ["stream (raw)", smallest.map((s) => url("stream", `id=${encodeURIComponent(s.id)}&format=raw`)), { kind: "bytes", type: "audio" }],
    ["getCoverArt", spread(covers, 50).map((id) => url("getCoverArt", `id=${encodeURIComponent(id)}`)), { kind: "bytes", type: "image" }],
    ["getCoverArt size=300", spread(covers, 50).map((id) => url("getCoverArt", `id=${encodeURIComponent(id)}&size=300`)), { kind: "bytes", type: "image" }],
  ];
  const figures: EndpointFigures[] = [];
  for (const [endpoint, urls, check] of sets) {
    if (urls.length === 0) continue;
    const cycle = (n: number) => Array.from({ length: n }, (_, i) => urls[i % urls.length]!);
    const [, measured] = await runLoad({ phases: [cycle(Math.ceil(requests / 10)), cycle(requests)], connections, check });
    const sorted = [...measured!.latencies].sort((a, b) => a - b);
    figures.push({
      endpoint,
      requestsPerSecond: measured!.latencies.length / measured!.seconds,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      errors: measured!.errors.reduce((sum, [, n]) => sum + n, 0),
    });
  }
  return figures;
}
