// npm run bench:analysis-stats -- [--tracks 100000] [--requests 300] [--clients 4] [--dir <folder>]
// Feature aggregates through the real HTTP endpoints over a synthetic catalog (bench/catalog-fixtures.ts)
// whose tracks all have analysis rows (bench/analysis-fixtures.ts): the whole collection, the library,
// an album, an artist and a playlist, each from one client (latency alone) and from several at once,
// and "more like this" for a track.
// The collection and library read precomputed cells (migrations/0029); the first read after a change
// recomputes the changed cell, measured separately ("after a change").
import os from "node:os";
import { parseArgs } from "node:util";
import { TestClient } from "../test/helpers/client.ts";
import { loadAnalysisFixture } from "./analysis-fixtures.ts";
import { percentile, startBenchServer } from "./bench-server.ts";
import { loadCatalogFixture } from "./catalog-fixtures.ts";

const { values } = parseArgs({
  options: {
    tracks: { type: "string", default: "100000" },
    requests: { type: "string", default: "300" },
    clients: { type: "string", default: "4" },
    dir: { type: "string" },
  },
});
const TRACKS = Number(values.tracks);
const PLAYLIST_TRACKS = 1000;

function summary(latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  const f = (p: number) => percentile(sorted, p).toFixed(1);
  return `p50 ${f(50)} ms, p95 ${f(95)} ms, p99 ${f(99)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`;
}

/** `clients` loops sending `total` requests for the paths, in turn; latencies by path label. */
async function run(url: string, token: string, paths: [string, () => string][], clients: number, total: number) {
  const byScope = new Map<string, number[]>(paths.map(([label]) => [label, []]));
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < total) {
      const [label, path] = paths[next++ % paths.length]!;
      const t = performance.now();
      const res = await fetch(`${url}/api/v1${path()}`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`${path()}: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      byScope.get(label)!.push(performance.now() - t);
    }
  }));
  return byScope;
}

const server = await startBenchServer("analysis-stats", values.dir);
try {
  const { db, url } = server;
  const client = new TestClient(url);
  await client.signup("bench");
  const library = (await client.post("/api/v1/libraries", { name: "bench", privacy: "private" })).body.id as string;
  const token = (await client.post("/api/v1/tokens", { name: "bench" })).body.token as string;
  let t = performance.now();
  await loadCatalogFixture(db.pool, library, TRACKS);
  await loadAnalysisFixture(db.pool, TRACKS);
  console.log(`Catalog and analysis rows for ${TRACKS.toLocaleString()} tracks in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const ids = async (sql: string, n: number) => (await db.pool.query<{ id: string }>(`${sql} ORDER BY md5(id::text) LIMIT ${n}`)).rows.map((r) => r.id);
  const albums = await ids("SELECT id FROM album", 200);
  const artists = await ids("SELECT id FROM artist", 200);
  const playlist = (await client.post("/api/v1/playlists", { name: "bench", privacy: "private" })).body.id as string;
  const playlistTracks = await ids("SELECT id FROM track", PLAYLIST_TRACKS);
  for (let i = 0; i < playlistTracks.length; i += 500) {
    const res = await client.post(`/api/v1/playlists/${playlist}/items`, { trackIds: playlistTracks.slice(i, i + 500) });
    if (res.status !== 201) throw new Error(`playlist items: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  }
  const pick = (list: string[]) => list[Math.floor(Math.random() * list.length)]!;
  const paths: [string, () => string][] = [
    ["collection", () => "/analysis/collection"],
    [`library (${TRACKS.toLocaleString()} tracks)`, () => `/libraries/${library}/analysis`],
    ["album (10 tracks)", () => `/albums/${pick(albums)}/analysis`],
    ["artist (20 tracks)", () => `/artists/${pick(artists)}/analysis`],
    [`playlist (${PLAYLIST_TRACKS} tracks)`, () => `/playlists/${playlist}/analysis`],
    // Not an aggregate, but it reads the same cells (for its normalisation) and ranks every analysed track.
    ["more like this (50)", () => `/tracks/${pick(playlistTracks)}/similar?limit=50`],
  ];

  // The first read computes the cell; what a read costs after a change is measured below.
  t = performance.now();
  await run(url, token, paths.slice(0, 1), 1, 1);
  console.log(`First read (computes the ${TRACKS.toLocaleString()}-track cell): ${(performance.now() - t).toFixed(0)} ms`);
  await run(url, token, paths, 4, paths.length * 8); // warm-up: every pooled connection prepares its statements

  const report = (title: string, byScope: Map<string, number[]>) => {
    console.log(title);
    for (const [label, latencies] of byScope) console.log(`  ${label.padEnd(24)} ${summary(latencies)}`);
    console.log(`  ${"all".padEnd(24)} ${summary([...byScope.values()].flat())}`);
  };
  // The machine may be shared: the load average says how much of its cores the figures below had.
  const load = () => os.loadavg().map((l) => l.toFixed(1)).join(" / ");
  console.log(`Load average before measuring (1 / 5 / 15 min): ${load()} on ${os.availableParallelism()} cores`);
  const requests = Number(values.requests);
  report(`1 client, ${requests} requests`, await run(url, token, paths, 1, requests));
  const clients = Number(values.clients);
  report(`${clients} clients, ${requests * 2} requests`, await run(url, token, paths, clients, requests * 2));

  // A track analysed again (as the worker does) makes its cell stale: the next read recomputes it.
  const after: number[] = [];
  for (let i = 0; i < 10; i++) {
    await db.pool.query("UPDATE track_analysis SET energy = 1 - energy WHERE track_id = $1", [pick(playlistTracks)]);
    t = performance.now();
    await run(url, token, paths.slice(0, 1), 1, 1);
    after.push(performance.now() - t);
  }
  console.log(`Collection, first read after a change (recomputes the changed cell, a thirty-second of the library): ${summary(after)}`);
  console.log(`Load average after measuring: ${load()}`);
} finally {
  await server.close();
}
