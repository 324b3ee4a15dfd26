// The client side of a latency benchmark, in a worker thread: a real client runs on another machine, so
// its work (sending, reading and checking answers) must not wait in line with the server's on one event
// loop. It still shares the machine's two cores with the server and PostgreSQL.
import { constants, gunzipSync } from "node:zlib";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { HttpConnection, type Answer } from "./http-connection.ts";

/** How to tell a right answer from a wrong one. */
export type Check =
  | { kind: "subsonic" } // HTTP 200, a JSON subsonic-response with status "ok"
  | { kind: "bytes"; type: string; size?: number }; // HTTP 200, this content type, this many bytes (or some)

export interface LoadPlan {
  /**
   * Absolute URLs, sent in this order, a phase after the other over the same connections (a warm-up,
   * then the measured run): a fresh client would measure its own start (new sockets, cold code).
   */
  phases: string[][];
  /** Keep-alive connections, each sending its next request when its last one is answered. */
  connections: number;
  check: Check;
}

export interface LoadResult {
  /** Milliseconds from sending a request to the last byte of its answer, in the order they finished. */
  latencies: number[];
  seconds: number;
  /** Wrong answers by what was wrong. */
  errors: [message: string, count: number][];
}

/** Runs the plan in a worker thread and resolves, a result a phase, when every request has been answered. */
export function runLoad(plan: LoadPlan): Promise<LoadResult[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: plan });
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
  });
}

function verdict(check: Check, { status, type, gzipped, body }: Answer): string | undefined {
  const text = (bytes?: number) => (gzipped ? gunzipSync(body) : body).toString("utf8", 0, bytes);
  if (status !== 200) return `HTTP ${status} ${text(200)}`;
  if (check.kind === "subsonic") {
    // Our envelope starts with its status: unpacking and parsing a whole 1 MB artist list here would
    // make the client, not the server, the bottleneck. Anything else is parsed for its error.
    const head = gzipped ? gunzipSync(body.subarray(0, 256), { finishFlush: constants.Z_SYNC_FLUSH }) : body;
    if (head.toString("utf8", 0, 64).startsWith('{"subsonic-response":{"status":"ok"')) return undefined;
    const envelope = JSON.parse(text())["subsonic-response"];
    return envelope?.status === "ok" ? undefined : `Subsonic error ${JSON.stringify(envelope?.error)}`;
  }
  if (!type?.startsWith(check.type)) return `content-type ${type}`;
  if (check.size === undefined ? body.length === 0 : body.length !== check.size) return `${body.length} bytes`;
  return undefined;
}

async function generate({ phases, connections: count, check }: LoadPlan): Promise<LoadResult[]> {
  const origin = new URL(phases.flat()[0] ?? "http://localhost").origin;
  const connections = Array.from({ length: count }, () => new HttpConnection(origin));
  const results: LoadResult[] = [];
  for (const urls of phases) results.push(await phase(connections, urls.map((url) => pathOf(origin, url)), check));
  for (const connection of connections) connection.close();
  return results;
}

function pathOf(origin: string, url: string): string {
  if (!url.startsWith(`${origin}/`)) throw new Error(`${url} is not on ${origin}: one server per plan`);
  return url.slice(origin.length);
}

async function phase(connections: HttpConnection[], paths: string[], check: Check): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  let next = 0;
  const started = performance.now();
  await Promise.all(connections.map(async (connection) => {
    while (next < paths.length) {
      const path = paths[next++]!;
      const t = performance.now();
      const answer = await connection.get(path);
      latencies.push(performance.now() - t);
      const error = verdict(check, answer);
      if (error) errors.set(error, (errors.get(error) ?? 0) + 1);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  return { latencies, seconds, errors: [...errors.entries()] };
}

if (!isMainThread) parentPort!.postMessage(await generate(workerData as LoadPlan));
