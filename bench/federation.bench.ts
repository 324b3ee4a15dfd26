// bench:federation: two real servers (each `node main.ts all` with the npm start defaults, its own
// embedded PostgreSQL, DATA_DIR and port). A person on B follows a public library of A holding
// --tracks tracks; B scans it. Reports the scan's tracks/s and requests, each process's peak memory,
// and the first-byte time of a remote track's first (uncached) play against a local play on A.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { makeAudio } from "../test/fixtures/audio.ts";
import { TestClient } from "../test/helpers/client.ts";
import { type PolyphonyProcess, startPolyphonyProcess } from "../test/helpers/polyphony-process.ts";
import { waitUntil } from "../test/helpers/wait.ts";
import { loadCatalogFixture } from "./catalog-fixtures.ts";
import { percentile } from "./bench-server.ts";

const { values } = parseArgs({ options: { tracks: { type: "string", default: "10000" }, plays: { type: "string", default: "5" } } });
const TRACKS = Number(values.tracks);
const PLAYS = Number(values.plays);

/** Peak resident memory (VmHWM) of a process and its current one, in MiB. */
async function memoryOf(pid: number): Promise<{ peak: number; now: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { peak: kb("VmHWM") / 1024, now: kb("VmRSS") / 1024 };
}

/** Milliseconds to the first byte of a GET, then the whole body read. */
async function firstByte(url: string, cookie: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, { headers: { cookie } });
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
  const reader = res.body.getReader();
  await reader.read();
  const ms = performance.now() - started;
  while (!(await reader.read()).done);
  return ms;
}

const median = (values: number[]) => percentile([...values].sort((x, y) => x - y), 50);

async function main() {
  const files = await mkdtemp(path.join(os.tmpdir(), "polyphony-fed-bench-files-"));
  let a: PolyphonyProcess | undefined;
  let b: PolyphonyProcess | undefined;
  try {
    console.log(`Starting two servers (npm start defaults) and a ${TRACKS}-track library on A...`);
    [a, b] = await Promise.all([startPolyphonyProcess("bench-a"), startPolyphonyProcess("bench-b")]);
    const alice = new TestClient(a.url);
    await alice.signup("alice");
    const library = (await alice.post("/api/v1/libraries", { name: "Benchmark", privacy: "public" })).body as { id: string };
    await loadCatalogFixture(a.pool, library.id, TRACKS, "fedbench");
    // Real files to play: 3-minute MP3s at 128 kb/s (~2.9 MB each).
    for (let i = 1; i <= PLAYS; i++) {
      const file = await makeAudio(files, {
        name: `real-${i}`, format: "mp3", seconds: 180, tags: { TITLE: `Real ${i}`, ARTIST: "Bench", ALBUM: "Real" }, ffmpegArgs: ["-b:a", "128k"],
      });
      await alice.upload(`/api/v1/libraries/${library.id}/uploads`, [{ name: path.basename(file), data: await readFile(file) }]);
    }
    await waitUntil(async () => (await a!.pool.query("SELECT count(*)::int AS n FROM upload WHERE status = 'pending'")).rows[0].n === 0 || undefined, {
      timeout: 120_000, what: "A's imports",
    });

    const bob = new TestClient(b.url);
    await bob.signup("bob");
    const memoryBefore = { a: await memoryOf(a.process.child.pid!), b: await memoryOf(b.process.child.pid!) };
    const followed = performance.now();
    const res = await bob.post("/api/v1/federation/follows", { target: `${a.url}/libraries/${library.id}` });
    if (res.status >= 300) throw new Error(`follow: ${res.status} ${JSON.stringify(res.body)}`);
    const scan = await waitUntil(async () => {
      const { rows } = await b!.pool.query(
        "SELECT status, reason, pages, items_seen, items_added, started_at, finished_at FROM remote_scan ORDER BY created_at DESC LIMIT 1",
      );
      const row = rows[0];
      if (row?.status === "errored") throw new Error(`scan failed: ${row.reason}`);
      return row?.status === "finished" ? row : undefined;
    }, { timeout: 30 * 60_000, interval: 200, what: "B's scan" });
    const wall = (performance.now() - followed) / 1000;
    const scanSeconds = (scan.finished_at.getTime() - scan.started_at.getTime()) / 1000;
    const memoryAfter = { a: await memoryOf(a.process.child.pid!), b: await memoryOf(b.process.child.pid!) };
    const remoteTracks = (await b.pool.query("SELECT count(*)::int AS n FROM upload WHERE storage = 'remote'")).rows[0].n;

    // Where the scan's time goes: A answering the same pages alone (unsigned: the library is public).
    const servedFrom = performance.now();
    for (let page = 1; page <= scan.pages; page++) {
      const res = await fetch(`${a.url}/federation/libraries/${library.id}?page=${page}`, { headers: { accept: "application/activity+json" } });
      if (!res.ok) throw new Error(`page ${page}: HTTP ${res.status}`);
      await res.arrayBuffer();
    }
    const servingSeconds = (performance.now() - servedFrom) / 1000;

    // First bytes: each real track played once locally on A, then for the first time on B, then again on B.
    const trackOn = async (server: PolyphonyProcess, title: string) =>
      (await server.pool.query("SELECT t.id FROM track t WHERE t.title = $1", [title])).rows[0].id as string;
    const local: number[] = [];
    const remoteFirst: number[] = [];
    const remoteCached: number[] = [];
    for (let i = 1; i <= PLAYS; i++) {
      local.push(await firstByte(`${a.url}/api/v1/tracks/${await trackOn(a, `Real ${i}`)}/stream`, alice.cookie!));
      const onB = `${b.url}/api/v1/tracks/${await trackOn(b, `Real ${i}`)}/stream`;
      remoteFirst.push(await firstByte(onB, bob.cookie!));
      remoteCached.push(await firstByte(onB, bob.cookie!));
    }

    const rows: [string, string][] = [
      ["tracks in A's library", String(TRACKS + PLAYS)],
      ["remote tracks on B after the scan", String(remoteTracks)],
      ["scan: pages fetched (signed GETs; and the Library document)", String(scan.pages)],
      ["scan: time (started -> finished)", `${scanSeconds.toFixed(1)} s`],
      ["scan: tracks/s", (scan.items_seen / scanSeconds).toFixed(0)],
      ["follow -> scan finished (wall)", `${wall.toFixed(1)} s`],
      ["A serving the same pages alone, one after another", `${servingSeconds.toFixed(1)} s (${((servingSeconds / scan.pages) * 1000).toFixed(0)} ms a page)`],
      ["A (node process) peak RSS / RSS before -> after", `${memoryAfter.a.peak.toFixed(0)} MiB / ${memoryBefore.a.now.toFixed(0)} -> ${memoryAfter.a.now.toFixed(0)} MiB`],
      ["B (node process) peak RSS / RSS before -> after", `${memoryAfter.b.peak.toFixed(0)} MiB / ${memoryBefore.b.now.toFixed(0)} -> ${memoryAfter.b.now.toFixed(0)} MiB`],
      [`first byte, local play on A (median of ${PLAYS})`, `${median(local).toFixed(1)} ms`],
      [`first byte, remote first play on B (uncached, median of ${PLAYS})`, `${median(remoteFirst).toFixed(1)} ms`],
      [`first byte, remote second play on B (cached, median of ${PLAYS})`, `${median(remoteCached).toFixed(1)} ms`],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    console.log(`\nbench:federation (${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB)`);
    for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`);
  } finally {
    await Promise.all([a?.stop(), b?.stop()]);
    await rm(files, { recursive: true, force: true });
  }
}

await main();
