// npm run bench:subsonic -- [--tracks 100000] [--connections 32] [--requests 2000] [--covers 300] [--streams 1000] [--only getAlbum,...] [--dir <folder>]
// The Subsonic API through real HTTP over a synthetic catalog (bench/catalog-fixtures.ts): the calls a
// client makes while browsing (getArtists, getAlbumList2 random and newest, search3, getAlbum) and the
// bytes it then fetches (getCoverArt, stream), each from many keep-alive connections at once.
import { createHash, randomBytes } from "node:crypto";
import { link, mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { processCover } from "../core/media/artwork.ts";
import { makeAudio, makeCoverImage } from "../test/fixtures/audio.ts";
import { TestClient } from "../test/helpers/client.ts";
import { percentile, startBenchServer } from "./bench-server.ts";
import { runLoad, type Check, type LoadResult } from "./load-generator.ts";
import { loadCatalogFixture } from "./catalog-fixtures.ts";

const { values } = parseArgs({
  options: {
    tracks: { type: "string", default: "100000" },
    connections: { type: "string", default: "32" },
    requests: { type: "string", default: "2000" },
    covers: { type: "string", default: "300" },
    streams: { type: "string", default: "1000" },
    dir: { type: "string" },
    only: { type: "string" }, // comma-separated call names, e.g. "getAlbum,search3"
  },
});
const CONNECTIONS = Number(values.connections);
const REQUESTS = Number(values.requests);
/** Requests sent before each measured run, to other items than the measured ones. */
const WARM_UP = CONNECTIONS * 4;

/** What people type into a client's search box: names, prefixes, typos, missing accents, common words. */
const QUERIES = ["radiohead", "the beatles", "bjork", "sigur ros", "beatels", "kid a", "love", "midnight city",
  "rad", "hey jude", "daft punk", "golden river", "motorhead", "blue", "nina simone", "the nat"];

interface Credentials {
  username: string;
  password: string;
}

/** Token auth with a fresh salt per request, as Subsonic clients do. */
function auth(creds: Credentials): string {
  const salt = randomBytes(6).toString("hex");
  const token = createHash("md5").update(creds.password + salt).digest("hex");
  return `u=${encodeURIComponent(creds.username)}&t=${token}&s=${salt}&v=1.16.1&c=bench`;
}

/** One measured call: a URL for the i-th request, and how to tell a right answer from a wrong one. */
interface Scenario {
  name: string;
  /** Share of --requests (getArtists sends the whole index, ~1 MB at 100k tracks: fewer). */
  share?: number;
  /**
   * Made ahead by the server after a catalog change (random lists: every album's element, ~1 s at
   * 10,000 albums): the warm-up is then as long as the measured run and shown apart, as "cold".
   */
  madeAhead?: boolean;
  url: (i: number) => string;
  check: Check;
}

type Figures = ReturnType<typeof figures>;

function figures({ latencies, seconds, errors }: LoadResult) {
  const sorted = latencies.sort((a, b) => a - b);
  return {
    requests: sorted.length,
    perSecond: sorted.length / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1)!,
    errors: errors.reduce((sum, [, count]) => sum + count, 0),
    firstErrors: errors.slice(0, 3),
  };
}

/**
 * `warmUp` requests (for other items than the measured ones: they come after them), then `total`
 * measured ones, from CONNECTIONS keep-alive connections at once, sent from a worker thread.
 */
async function run(base: string, scenario: Scenario, warmUp: number, total: number): Promise<{ warmUp: Figures; measured: Figures }> {
  const urls = (from: number, count: number) => Array.from({ length: count }, (_, i) => `${base}${scenario.url(from + i)}`);
  const [first, second] = await runLoad({ phases: [urls(total, warmUp), urls(0, total)], connections: CONNECTIONS, check: scenario.check });
  return { warmUp: figures(first!), measured: figures(second!) };
}

async function main() {
  const server = await startBenchServer("subsonic", values.dir);
  const { work, db, config } = server;
  try {
    const client = new TestClient(server.url);
    await client.signup("bench");
    const library = (await client.post("/api/v1/libraries", { name: "bench", privacy: "private" })).body.id as string;
    const creds = (await client.get("/api/v1/me/subsonic")).body as Credentials;

    let t = performance.now();
    const counts = await loadCatalogFixture(db.pool, library, Number(values.tracks));
    console.log(`Catalog: ${counts.tracks} tracks, ${counts.albums} albums, ${counts.artists} artists, loaded in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    // Real covers (each its own image, stored in every size) for some albums, a real file behind some tracks.
    t = performance.now();
    const coverAlbums = (await db.pool.query<{ id: string }>("SELECT id FROM album ORDER BY md5(id::text) LIMIT $1", [Number(values.covers)])).rows.map((r) => r.id);
    const hashes: string[] = [];
    for (const [i] of coverAlbums.entries()) {
      hashes.push((await processCover(await makeCoverImage(500 + i, 500, "jpeg"), path.join(config.mediaDir, "covers"))).hash);
    }
    await db.pool.query("UPDATE album SET cover_hash = x.hash FROM unnest($1::uuid[], $2::text[]) AS x(id, hash) WHERE album.id = x.id", [coverAlbums, hashes]);
    // One real MP3, hard-linked once a track: an upload's path is unique within its library.
    const audio = await makeAudio(work, { name: "stream", format: "mp3", seconds: 5 });
    const audioSize = (await stat(audio)).size;
    const links = path.join(work, "streams");
    await mkdir(links);
    const paths = await Promise.all(Array.from({ length: Number(values.streams) }, async (_, i) => {
      const file = path.join(links, `${i}.mp3`);
      await link(audio, file);
      return file;
    }));
    const streamTracks = (await db.pool.query<{ track_id: string }>(
      `UPDATE upload SET path = x.path, size = $2 FROM (SELECT id, ($1::text[])[(row_number() OVER ())::int] AS path
         FROM (SELECT id FROM upload ORDER BY md5(id::text) LIMIT cardinality($1::text[])) picked) x
       WHERE upload.id = x.id RETURNING upload.track_id`,
      [paths, audioSize],
    )).rows.map((r) => r.track_id);
    // Every album asked once: the warm-up's albums are not the measured ones (their answers would be kept).
    const albumIds = (await db.pool.query<{ id: string }>("SELECT id FROM album ORDER BY md5(id::text || 'x') LIMIT $1", [REQUESTS + WARM_UP])).rows.map((r) => r.id);
    console.log(`Media: ${coverAlbums.length} covers, ${streamTracks.length} tracks on a ${audioSize}-byte MP3, in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const rest = (method: string, params = "") => `/rest/${method}.view?${auth(creds)}&f=json${params ? `&${params}` : ""}`;
    const scenarios: Scenario[] = [
      { name: "getArtists", url: () => rest("getArtists"), check: { kind: "subsonic" }, share: 0.5 },
      { name: "getAlbumList2 random", url: () => rest("getAlbumList2", "type=random&size=50"), check: { kind: "subsonic" }, madeAhead: true },
      { name: "getAlbumList2 newest", url: () => rest("getAlbumList2", "type=newest&size=50"), check: { kind: "subsonic" } },
      { name: "search3", url: (i) => rest("search3", `query=${encodeURIComponent(QUERIES[i % QUERIES.length]!)}`), check: { kind: "subsonic" } },
      { name: "getAlbum", url: (i) => rest("getAlbum", `id=${albumIds[i % albumIds.length]}`), check: { kind: "subsonic" } },
      { name: "getCoverArt 300", url: (i) => `/rest/getCoverArt.view?${auth(creds)}&id=${coverAlbums[i % coverAlbums.length]}&size=300`, check: { kind: "bytes", type: "image/jpeg" } },
      { name: "stream", url: (i) => `/rest/stream.view?${auth(creds)}&id=${streamTracks[i % streamTracks.length]}&format=raw`, check: { kind: "bytes", type: "audio/mpeg", size: audioSize } },
    ];

    const results: Record<string, Figures> = {};
    console.log(`\n${CONNECTIONS} connections, ${REQUESTS} requests a call (getArtists: half) after ${WARM_UP} to warm up`);
    console.log(`("cold": the ${REQUESTS} before, the first after a catalog change, while the server makes ahead)\n`);
    console.log("call                   requests/s   p50 ms   p99 ms   max ms  errors");
    const only = values.only?.split(",");
    const show = (name: string, result: Figures) => {
      results[name] = result;
      const f = (n: number) => n.toFixed(1).padStart(8);
      console.log(`${name.padEnd(22)} ${result.perSecond.toFixed(0).padStart(10)} ${f(result.p50)} ${f(result.p99)} ${f(result.max)} ${String(result.errors).padStart(7)}`);
      for (const [message, count] of result.firstErrors) console.log(`    ${count} x ${message}`);
    };
    for (const scenario of scenarios.filter((s) => !only || only.includes(s.name.split(" ")[0]!))) {
      // Every pooled connection prepares its statements; the server makes ahead what it makes ahead.
      const total = Math.round(REQUESTS * (scenario.share ?? 1));
      const { warmUp, measured } = await run(server.url, scenario, scenario.madeAhead ? REQUESTS : WARM_UP, total);
      if (scenario.madeAhead) show(`${scenario.name.replace("getAlbumList2 ", "")} cold`, warmUp);
      show(scenario.name, measured);
    }
    const summary = Object.fromEntries(Object.entries(results).map(([name, r]) => [name, {
      requests: r.requests, requestsPerSecond: Math.round(r.perSecond), p50: Number(r.p50.toFixed(1)), p99: Number(r.p99.toFixed(1)), errors: r.errors,
    }]));
    console.log(`\n${JSON.stringify({ tracks: counts.tracks, connections: CONNECTIONS, requests: REQUESTS, results: summary })}`);
  } finally {
    await server.close();
  }
}

await main();
