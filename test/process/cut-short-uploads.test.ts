import { readdirSync, readlinkSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.ts";
import { createTestDatabase } from "../helpers/database.ts";
import { freePort } from "../helpers/ports.ts";
import { spawnEntry, waitForHealthy, type Spawned } from "../helpers/processes.ts";
import { waitUntil } from "../helpers/wait.ts";

/**
 * The real server (web + worker in one process, as `npm start` runs it) in a child process: a stream
 * error nobody listens to would kill it, and "it still answers" is only shown from the outside.
 */
let server: Spawned;
let url: string;
let dataDir: string;
let pool: pg.Pool;
let drop: () => Promise<void>;
let client: TestClient;
let library: string;

beforeAll(async () => {
  const database = await createTestDatabase();
  drop = database.drop;
  pool = new pg.Pool({ connectionString: database.url, max: 2 });
  dataDir = await mkdtemp(path.join(os.tmpdir(), "polyphony-cut-"));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = spawnEntry(["main.ts", "all"], {
    DATABASE_URL: database.url, DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", SHUTDOWN_TIMEOUT_SECONDS: "1",
  });
  await waitForHealthy(url, server);
  client = new TestClient(url);
  await client.signup("uploader");
  library = (await client.post("/api/v1/libraries", { name: "Cut short" })).body.id;
});
afterAll(async () => {
  if (server?.child.exitCode === null) {
    server.child.kill("SIGTERM");
    await server.exited;
  }
  await pool?.end();
  await drop?.();
  await rm(dataDir, { recursive: true, force: true });
});

const BOUNDARY = "----cut-short-boundary";

function partHeader(name: string): string {
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="${name}"\r\nContent-Type: audio/mpeg\r\n\r\n`;
}

/** A whole part: header, bytes, and the CRLF before the next boundary. */
function wholePart(name: string, bytes: number): Buffer {
  return Buffer.concat([Buffer.from(partHeader(name)), Buffer.alloc(bytes, 0x55), Buffer.from("\r\n")]);
}

/**
 * Sends an upload over a raw socket: the request head, then `body`, then ends the request as `how` says.
 * Resolves with whatever the server answered (maybe nothing) once the connection is closed.
 */
function rawUpload(
  body: Buffer,
  how: { framing: "chunked" } | { framing: "length"; declared: number; then: "end" | "reset" | "hold" },
): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), "127.0.0.1");
    let answer = "";
    socket.on("data", (chunk) => (answer += chunk));
    socket.on("error", (error) => ((error as NodeJS.ErrnoException).code === "ECONNRESET" ? resolve(answer) : reject(error)));
    socket.on("close", () => resolve(answer));
    socket.on("connect", () => {
      const head = [
        `POST /api/v1/libraries/${library}/uploads HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        `Cookie: ${client.cookie}`,
        `X-CSRF-Token: ${client.csrfToken}`,
        `Content-Type: multipart/form-data; boundary=${BOUNDARY}`,
        how.framing === "chunked" ? "Transfer-Encoding: chunked" : `Content-Length: ${how.declared}`,
        "Connection: close",
      ].join("\r\n");
      socket.write(`${head}\r\n\r\n`);
      if (how.framing === "chunked") {
        // The HTTP body ends properly; the multipart body inside it has no closing boundary. The socket
        // stays open for the answer: Node aborts a request whose client half-closes the connection.
        socket.write(Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")]));
        return;
      }
      socket.write(body, () => {
        // Give the server time to start writing the file before the connection goes (or, held, the
        // server closes it).
        if (how.then !== "hold") setTimeout(() => (how.then === "end" ? socket.end() : socket.resetAndDestroy()), 300);
      });
    });
  });
}

/** Files under the uploads folder, and descriptors the server still holds on anything in it. */
async function leftovers(): Promise<{ files: string[]; descriptors: string[] }> {
  const uploads = path.join(dataDir, "media", "uploads");
  const files = await readdir(uploads, { recursive: true, withFileTypes: true }).catch(() => []);
  const running = server.child.exitCode === null && server.child.signalCode === null;
  const descriptors = (running ? readdirSync(`/proc/${server.child.pid}/fd`) : [])
    .map((fd) => {
      try {
        return readlinkSync(`/proc/${server.child.pid}/fd/${fd}`);
      } catch {
        return ""; // closed between the listing and the read
      }
    })
    .filter((target) => target.startsWith(uploads));
  return { files: files.filter((f) => f.isFile()).map((f) => f.name), descriptors };
}

async function rowCounts(): Promise<{ uploads: number; batches: number }> {
  const { rows } = await pool.query(
    "SELECT (SELECT count(*)::int FROM upload) AS uploads, (SELECT count(*)::int FROM import_batch) AS batches",
  );
  return rows[0];
}

describe.skipIf(process.platform !== "linux")("an upload cut short", () => {
  const half = wholePart("first.mp3", 512 * 1024).subarray(0, 300 * 1024);

  it("without its closing boundary: a 400, and the server keeps running", async () => {
    const answer = await rawUpload(half, { framing: "chunked" });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"malformed_multipart"');
  });

  it("by the client ending the connection mid-file", async () => {
    await rawUpload(half, { framing: "length", declared: 2 * 1024 * 1024, then: "end" });
    expect((await fetch(`${url}/api/v1/health`)).status).toBe(200);
  });

  it("by a connection reset mid-file", async () => {
    await rawUpload(half, { framing: "length", declared: 2 * 1024 * 1024, then: "reset" });
    expect((await fetch(`${url}/api/v1/health`)).status).toBe(200);
  });

  it("after a whole first file, in the second file (waiting its turn or being written)", async () => {
    const body = Buffer.concat([wholePart("whole.mp3", 256 * 1024), half]);
    await rawUpload(body, { framing: "length", declared: 4 * 1024 * 1024, then: "reset" });
    const answer = await rawUpload(body, { framing: "chunked" });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  });

  it("leaves the process running, nothing on disk, no descriptor open, no upload and no batch", async () => {
    expect(server.child.exitCode, server.output()).toBe(null);
    expect((await fetch(`${url}/api/v1/health`)).status).toBe(200);
    // The server notices a reset a moment after the client makes it.
    await waitUntil(async () => {
      const [disk, rows] = await Promise.all([leftovers(), rowCounts()]);
      return (disk.files.length + disk.descriptors.length + rows.uploads + rows.batches === 0) || undefined;
    }, { timeout: 10_000 }).catch(() => {});
    expect(await leftovers()).toEqual({ files: [], descriptors: [] });
    expect(await rowCounts()).toEqual({ uploads: 0, batches: 0 });
    expect(server.output()).not.toMatch(/Unexpected end of (form|file)\n\s+at /);
    expect(server.output()).not.toMatch(/level=(fatal|error)/);
  });

  it("still takes a whole upload afterwards", async () => {
    const res = await client.upload(`/api/v1/libraries/${library}/uploads`, [{ name: "after.mp3", data: new Uint8Array(4096) }]);
    expect(res.status).toBe(201);
    expect(res.body.uploads).toHaveLength(1);
  });

  it("by a shutdown whose timeout ends while the file still arrives: cleaned up before the database closes", async () => {
    const before = await rowCounts();
    const held = rawUpload(half, { framing: "length", declared: 2 * 1024 * 1024, then: "hold" });
    await waitUntil(async () => ((await leftovers()).files.some((name) => name.endsWith(".part")) || undefined));
    server.child.kill("SIGTERM");
    expect(await held).toBe(""); // the connection is closed once the timeout (1 s) ends
    expect((await server.exited).code, server.output()).toBe(0);
    expect((await leftovers()).files.filter((name) => name.endsWith(".part"))).toEqual([]);
    expect(await rowCounts()).toEqual(before);
    expect(server.output()).not.toMatch(/level=(fatal|error)/);
  });
});
