// npm run bench:search -- [--tracks 100000] [--clients 4] [--requests 4000] [--dir <folder>]
// Search latency through the real HTTP endpoint over a synthetic catalog (bench/catalog-fixtures.ts):
// a mix of exact names, prefixes as typed, typos, missing accents, multi-word and very common words,
// first from one client (latency alone), then from several at once (latency under load, requests/s).
import { parseArgs } from "node:util";
import { TestClient } from "../test/helpers/client.ts";
import { percentile, startBenchServer } from "./bench-server.ts";
import { loadCatalogFixture } from "./catalog-fixtures.ts";

const { values } = parseArgs({
  options: {
    tracks: { type: "string", default: "100000" },
    clients: { type: "string", default: "4" },
    requests: { type: "string", default: "4000" },
    dir: { type: "string" },
  },
});

/** What people type, by kind; every query runs the same number of times. */
const QUERIES: Record<string, string[]> = {
  exact: ["radiohead", "the beatles", "Björk", "hey jude", "kid a", "daft punk", "nina simone", "blue monday", "pink floyd", "teardrop"],
  prefix: ["r", "ra", "rad", "radio", "radioh", "the nat", "the national ant", "bohemian rh", "stairway to hea", "parano", "hyperb", "midn"],
  typo: ["beatels", "radiohaed", "metalica", "nirvanna", "led zepelin", "pink floid", "kraftwerck", "depeche mod", "masive attack", "portished"],
  accents: ["bjork", "sigur ros", "motley crue", "beyonce", "motorhead", "hoppipolla", "agaetis byrjun", "edith piaf", "arvo part", "roykssopp"],
  multiword: ["kid a radiohead", "love night", "summer dream", "golden river", "midnight city", "yesterday beatles", "national anthem radiohead", "sweet blue moon"],
  common: ["love", "the", "night", "blue", "heart", "a"],
};
const MIX = Object.entries(QUERIES).flatMap(([kind, qs]) => qs.map((q) => ({ kind, q })));

const GUEST_TRACKS = 1000;

/** A signed-up user with a private library and an API token. */
async function viewer(url: string, username: string): Promise<[token: string, library: string]> {
  const client = new TestClient(url);
  await client.signup(username);
  const library = (await client.post("/api/v1/libraries", { name: username, privacy: "private" })).body.id as string;
  return [(await client.post("/api/v1/tokens", { name: "bench" })).body.token as string, library];
}

function summary(latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  const f = (p: number) => percentile(sorted, p).toFixed(1);
  return `p50 ${f(50)} ms, p95 ${f(95)} ms, p99 ${f(99)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`;
}

/** `clients` loops, each sending requests one after another until `total` are done; latency per kind. */
async function run(url: string, token: string, clients: number, total: number) {
  const byKind = new Map<string, number[]>();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const { kind, q } = MIX[next++ % MIX.length]!;
        const t = performance.now();
        const res = await fetch(`${url}/api/v1/search?q=${encodeURIComponent(q)}`, { headers: { authorization: `Bearer ${token}` } });
        if (res.status !== 200) throw new Error(`${q}: HTTP ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
        byKind.set(kind, [...(byKind.get(kind) ?? []), performance.now() - t]);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { byKind, all: [...byKind.values()].flat(), rate: total / seconds };
}

function report(title: string, result: Awaited<ReturnType<typeof run>>): void {
  console.log(`${title}: ${result.all.length} requests, ${result.rate.toFixed(0)} requests/s`);
  console.log(`  all        ${summary(result.all)}`);
  for (const [kind, latencies] of result.byKind) console.log(`  ${kind.padEnd(10)} ${summary(latencies)}`);
}

async function main() {
  const server = await startBenchServer("search", values.dir);
  const { db } = server;
  try {
    // The owner sees the big private library; a guest sees only a small one of their own.
    const [token, library] = await viewer(server.url, "bench");
    const [guestToken, guestLibrary] = await viewer(server.url, "guest");
    let t = performance.now();
    const counts = await loadCatalogFixture(db.pool, library, Number(values.tracks));
    const seconds = (performance.now() - t) / 1000;
    await loadCatalogFixture(db.pool, guestLibrary, GUEST_TRACKS, "guest");
    const { rows } = await db.pool.query("SELECT pg_size_pretty(pg_total_relation_size('search_document')) AS size");
    console.log(`Catalog: ${counts.tracks} tracks, ${counts.albums} albums, ${counts.artists} artists, loaded in ` +
      `${seconds.toFixed(1)} s (and the guest's ${GUEST_TRACKS}); search_document with its indexes: ${rows[0].size}`);

    t = performance.now();
    await run(server.url, token, 12, MIX.length * 12); // every pooled connection prepares the statement once
    console.log(`Warm-up: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    report("1 client", await run(server.url, token, 1, MIX.length * 10));
    const clients = Number(values.clients);
    const result = await run(server.url, token, clients, Number(values.requests));
    report(`${clients} clients`, result);
    report(`Guest (sees ${GUEST_TRACKS} of ${counts.tracks + GUEST_TRACKS} tracks), 1 client`, await run(server.url, guestToken, 1, MIX.length * 5));
    const sorted = [...result.all].sort((a, b) => a - b);
    console.log(JSON.stringify({ tracks: counts.tracks, clients, p50: percentile(sorted, 50), p95: percentile(sorted, 95),
      p99: percentile(sorted, 99), requestsPerSecond: result.rate }));
  } finally {
    await server.close();
  }
}

await main();
