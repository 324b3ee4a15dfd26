// npm run bench:peer -- [--tracks 2000] [--rounds 3] [--requests 500 (0: no load set)] [--ours-only] [--dir <folder>]
// Ours against Debian's supysonic on the same generated library (issue 19): a fresh import into each,
// alternating (three rounds, fresh databases, warm page cache), then a rescan with nothing changed, then
// the Subsonic load set against both. Ours runs as a user runs it: `node main.ts all` with its defaults
// and `npm run cli -- import <dir> --library <id> --wait`, timed from the command to the last upload
// settled. Installs nothing: without supysonic (apt-get install supysonic python3-gunicorn) only our side runs.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { workFolder } from "./bench-server.ts";
import { hasSupysonic, startOurs, startSupysonic, type PeerServer, type Timed } from "./peer-servers.ts";
import { generateRealisticLibrary } from "./realistic-library.ts";
import { runLoadSet, type EndpointFigures } from "./subsonic-load-set.ts";
import { rm } from "node:fs/promises";

const { values } = parseArgs({
  options: {
    tracks: { type: "string", default: "2000" },
    n: { type: "string" }, // the old name of --tracks
    "ours-only": { type: "boolean", default: false },
    rounds: { type: "string", default: "3" },
    requests: { type: "string", default: "500" },
    dir: { type: "string" },
  },
});
const ROUNDS = Number(values.rounds);
const TRACKS = Number(values.n ?? values.tracks);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;
const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "-");
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : "-");

interface Side {
  imports: Timed[];
  rescans: Timed[];
  load?: EndpointFigures[];
}

async function round(start: () => Promise<PeerServer>, side: Side, keep: boolean): Promise<PeerServer | undefined> {
  const server = await start();
  try {
    side.imports.push(await server.importAll());
    side.rescans.push(await server.rescan());
    const parts = (t: Timed) => (t.cpuParts ? ` (CPU s: CLI ${fmt(t.cpuParts.cli)}, server ${fmt(t.cpuParts.server)}, PostgreSQL ${fmt(t.cpuParts.postgres)})` : "");
    const [imported, rescanned] = [side.imports.at(-1)!, side.rescans.at(-1)!];
    console.log(`  ${server.label}: import ${fmt(imported.seconds)} s${parts(imported)}, peak ${fmt(imported.peakMiB, 0)} MiB; rescan ${fmt(rescanned.seconds)} s${parts(rescanned)}`);
  } catch (error) {
    await server.stop();
    throw error;
  }
  if (keep) return server;
  await server.stop();
  return undefined;
}

function row(label: string, ours: number, peer: number, digits = 2, higherIsBetter = false) {
  const r = higherIsBetter ? ratio(ours, peer) : ratio(peer, ours);
  console.log(`${label.padEnd(34)} ${fmt(ours, digits).padStart(10)} ${fmt(peer, digits).padStart(11)} ${r.padStart(12)}`);
}

async function main() {
  const work = await workFolder("peer", values.dir);
  const music = path.join(work, "music");
  console.log(`Generating about ${TRACKS} files in ${music} ...`);
  const library = await generateRealisticLibrary(music, TRACKS);
  const tracks = library.files.length;
  console.log(`  ${tracks} tracks in ${library.albums} albums, ${library.broken.length} broken files`);
  for (const file of [...library.files, ...library.broken]) await readFile(file); // warm page cache for both
  const peer = !values["ours-only"] && hasSupysonic();
  if (!peer && !values["ours-only"]) console.log("supysonic is not installed (apt-get install supysonic python3-gunicorn): measuring our side only.");
  const ours: Side = { imports: [], rescans: [] };
  const theirs: Side = { imports: [], rescans: [] };
  const kept: PeerServer[] = [];
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      console.log(`Round ${r}/${ROUNDS}`);
      const last = r === ROUNDS;
      // Alternate who goes first, so a slow minute of the machine does not always fall on the same side.
      const order = r % 2 === 1 ? ["ours", "peer"] : ["peer", "ours"];
      for (const who of order) {
        if (who === "ours") {
          const server = await round(() => startOurs(music), ours, last);
          if (server) kept.push(server);
        } else if (peer) {
          const server = await round(() => startSupysonic(music, path.join(work, "supysonic")), theirs, last);
          if (server) kept.push(server);
        }
      }
    }
    if (Number(values.requests) > 0) console.log("Subsonic load set (8 connections) ...");
    for (const server of Number(values.requests) > 0 ? kept : []) (server.label === "ours" ? ours : theirs).load = await runLoadSet(server.baseUrl, server.auth, Number(values.requests));
  } finally {
    for (const server of kept) await server.stop();
    if (!values.dir) await rm(work, { recursive: true, force: true });
  }

  const m = (side: Side, pick: (t: Timed) => number, list: "imports" | "rescans" = "imports") => (side[list].length ? median(side[list].map(pick)) : NaN);
  console.log(`\nMedians over ${ROUNDS} rounds, ${tracks} tracks (+${library.broken.length} broken); ratio = how many times ours is better`);
  console.log(`${"".padEnd(34)} ${"ours".padStart(10)} ${"supysonic".padStart(11)} ${"ratio".padStart(12)}`);
  row("import, s (fresh catalog)", m(ours, (t) => t.seconds), m(theirs, (t) => t.seconds));
  row("import, tracks/s", tracks / m(ours, (t) => t.seconds), tracks / m(theirs, (t) => t.seconds), 0, true);
  row("import CPU per track, ms", (1000 * m(ours, (t) => t.cpuSeconds)) / tracks, (1000 * m(theirs, (t) => t.cpuSeconds)) / tracks);
  row("import peak RSS, MiB", m(ours, (t) => t.peakMiB), m(theirs, (t) => t.peakMiB), 0);
  row("rescan, nothing changed, s", m(ours, (t) => t.seconds, "rescans"), m(theirs, (t) => t.seconds, "rescans"));
  console.log("  (ours: wall time of the CLI command; CPU = CLI + server process + its PostgreSQL; peak RSS = the server process, PostgreSQL apart)");
  console.log(`  ours, each round: ${ours.imports.map((t) => fmt(t.seconds)).join(", ")} s; rescans ${ours.rescans.map((t) => fmt(t.seconds)).join(", ")} s`);
  if (peer) console.log(`  supysonic, each round: ${theirs.imports.map((t) => fmt(t.seconds)).join(", ")} s; rescans ${theirs.rescans.map((t) => fmt(t.seconds)).join(", ")} s`);
  console.log(`\n${"Subsonic call, req/s (p50 ms)".padEnd(34)} ${"ours".padStart(16)} ${"supysonic".padStart(16)} ${"ratio".padStart(8)}`);
  for (const figure of ours.load ?? []) {
    const other = theirs.load?.find((f) => f.endpoint === figure.endpoint);
    const cell = (f?: EndpointFigures) => (f ? `${fmt(f.requestsPerSecond, 0)} (${fmt(f.p50, 1)})${f.errors ? ` ${f.errors}err` : ""}` : "-");
    console.log(`${figure.endpoint.padEnd(34)} ${cell(figure).padStart(16)} ${cell(other).padStart(16)} ${ratio(figure.requestsPerSecond, other?.requestsPerSecond ?? NaN).padStart(8)}`);
  }
}

await main();
