// npm run bench:listens -- [--users 100] [--listens 100000] [--full] [--connections 16] [--requests 2000] [--dir <folder>]
// Listens through the ListenBrainz API (/1/submit-listens, batches of 1000, as an import sends them) and
// then statistics read back for every range at once from many connections. --full is the size:
// 1,000 users and 1,000,000 listens. The statistics are live (rollups the inserts keep), so the reads
// measure what a person sees right after submitting.
import { parseArgs } from "node:util";
import { AccountService } from "../core/accounts/accounts.service.ts";
import { ActorService } from "../core/accounts/actors.service.ts";
import { ListenAccessService } from "../core/listens/listen-access.service.ts";
import { STATS_RANGES } from "../core/listens/listen-ranges.ts";
import { percentile, startBenchServer } from "./bench-server.ts";
import { runLoad } from "./load-generator.ts";

const { values } = parseArgs({
  options: {
    users: { type: "string", default: "100" },
    listens: { type: "string", default: "100000" },
    full: { type: "boolean", default: false },
    connections: { type: "string", default: "16" },
    requests: { type: "string", default: "2000" },
    dir: { type: "string" },
  },
});
const USERS = values.full ? 1000 : Number(values.users);
const LISTENS = values.full ? 1_000_000 : Number(values.listens);
const CONNECTIONS = Number(values.connections);
const REQUESTS = Number(values.requests);
const BATCH = 1000;
/** Requests in flight while ingesting: two cores serve both the server and PostgreSQL. */
const INGEST_IN_FLIGHT = 4;

/** A catalog of names with a long tail: a few artists and tracks are heard far more than the rest. */
const ARTISTS = 3000;
const TRACKS_PER_ARTIST = 12;
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const skewed = (n: number) => Math.floor(n * random() ** 3);

function listen(at: number) {
  const artist = skewed(ARTISTS);
  const track = skewed(TRACKS_PER_ARTIST);
  return {
    listened_at: at,
    track_metadata: {
      artist_name: `Artist ${artist}`,
      track_name: `Song ${artist}-${track}`,
      release_name: `Album ${artist}-${track % 3}`,
      additional_info: { duration_ms: 180_000 + track * 1000, submission_client: "bench" },
    },
  };
}

// The reads come from one address without a token: the per-address budget must not be what is measured.
process.env.LISTENBRAINZ_ANONYMOUS_REQUESTS_PER_10S ??= "1000000";
const server = await startBenchServer("listens", values.dir);
try {
  const { db, url } = server;
  const accounts = new AccountService({ pool: db.pool, orm: db.orm, actors: new ActorService({ publicUrl: server.config.http.publicUrl }), registration: "open" });
  const access = new ListenAccessService({ pool: db.pool });
  console.log(`Making ${USERS} users…`);
  const users: { name: string; token: string }[] = [];
  for (let i = 0; i < USERS; i += 8) {
    users.push(...await Promise.all(Array.from({ length: Math.min(8, USERS - i) }, async (_, k) => {
      const user = await accounts.createUser({ username: `listener${i + k}`, password: "bench password 1" }, "user");
      await access.setPrivacy(user.id, "public");
      return { name: user.username, token: await access.regenerateToken(user.id) };
    })));
  }

  // Each user's listens over the last two years, newest last, sent in batches of BATCH.
  const now = Math.floor(Date.now() / 1000) - 60;
  const perUser = Math.ceil(LISTENS / USERS);
  const batches = users.flatMap((user, u) => Array.from({ length: Math.ceil(perUser / BATCH) }, (_, b) => ({
    user,
    payload: Array.from({ length: Math.min(BATCH, perUser - b * BATCH) }, (_, i) =>
      listen(now - Math.floor((2 * 365 * 86_400 * (perUser - b * BATCH - i)) / perUser) - u)),
  })));
  console.log(`Submitting ${(perUser * USERS).toLocaleString()} listens in ${batches.length} batches…`);
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: INGEST_IN_FLIGHT }, async () => {
    while (next < batches.length) {
      const { user, payload } = batches[next++]!;
      const res = await fetch(`${url}/1/submit-listens`, {
        method: "POST",
        headers: { Authorization: `Token ${user.token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ listen_type: "import", payload }),
      });
      if (res.status === 429) {
        next--; // over the rate limit: wait for its window, then send the batch again
        await new Promise((r) => setTimeout(r, Number(res.headers.get("x-ratelimit-reset-in") ?? 1) * 1000));
      } else if (res.status !== 200) throw new Error(`submit-listens: HTTP ${res.status} ${await res.text()}`);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM listen");
  console.log(`Ingest: ${rows[0].n.toLocaleString()} listens in ${seconds.toFixed(1)} s = ${Math.round(rows[0].n / seconds).toLocaleString()} listens/s`);

  // Statistics for every range, random users, from CONNECTIONS keep-alive connections.
  const paths = STATS_RANGES.flatMap((range) => [
    ...["artists", "releases", "release-groups", "recordings"].map((entity) => `${entity}?range=${range}&count=25`),
    `listening-activity?range=${range}`,
    `daily-activity?range=${range}`,
  ]);
  const urlFor = (i: number) => `${url}/1/stats/user/${users[Math.floor(random() * users.length)]!.name}/${paths[i % paths.length]}`;
  const [, measured] = await runLoad({
    phases: [Array.from({ length: CONNECTIONS * 4 }, (_, i) => urlFor(i)), Array.from({ length: REQUESTS }, (_, i) => urlFor(i))],
    connections: CONNECTIONS,
    check: { kind: "bytes", type: "application/json" },
  });
  const sorted = measured!.latencies.sort((a, b) => a - b);
  console.log(`Statistics (${paths.length} kinds of query, all ranges): ${sorted.length} requests at ${CONNECTIONS} connections, ` +
    `${Math.round(sorted.length / measured!.seconds)}/s, p50 ${percentile(sorted, 50).toFixed(1)} ms, ` +
    `p95 ${percentile(sorted, 95).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, errors ${measured!.errors.length ? JSON.stringify(measured!.errors) : 0}`);

  // The same queries one at a time: what each costs the server when nothing else waits for the cores.
  const [, alone] = await runLoad({
    phases: [Array.from({ length: 50 }, (_, i) => urlFor(i)), Array.from({ length: Math.min(REQUESTS, 500) }, (_, i) => urlFor(i))],
    connections: 1,
    check: { kind: "bytes", type: "application/json" },
  });
  const one = alone!.latencies.sort((a, b) => a - b);
  console.log(`Statistics one at a time: ${one.length} requests, p50 ${percentile(one, 50).toFixed(1)} ms, p95 ${percentile(one, 95).toFixed(1)} ms`);

  // Sitewide statistics (signed-in readers only: a token header), fewer, one range each, from this thread.
  const sitewide: number[] = [];
  for (const range of STATS_RANGES) {
    for (const entity of ["artists", "recordings"]) {
      const t = performance.now();
      const res = await fetch(`${url}/1/stats/sitewide/${entity}?range=${range}`, { headers: { Authorization: `Token ${users[0]!.token}` } });
      if (res.status !== 200) throw new Error(`sitewide ${entity} ${range}: HTTP ${res.status}`);
      await res.arrayBuffer();
      sitewide.push(performance.now() - t);
    }
  }
  sitewide.sort((a, b) => a - b);
  console.log(`Sitewide statistics (artists, recordings x ${STATS_RANGES.length} ranges, one at a time): p50 ${percentile(sitewide, 50).toFixed(1)} ms, max ${sitewide.at(-1)!.toFixed(1)} ms`);
} finally {
  await server.close();
}
