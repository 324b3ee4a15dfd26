import { randomBytes } from "node:crypto";
import { readdirSync, readlinkSync } from "node:fs";
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { configure, type LogRecord } from "@logtape/logtape";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotFound } from "../../core/errors.ts";
import { openInside, RefusedFile } from "../../core/media/safe-open.ts";
import { errorHandler } from "../../server/http/errors.ts";
import { encodeAccelPath, sendMedia, type MediaFile } from "../../server/http/send-media.ts";
import { startNginx, type RunningNginx } from "../helpers/nginx.ts";
import { systemProgram } from "../helpers/system-programs.ts";
import { waitUntil } from "../helpers/wait.ts";

const nginx = systemProgram("nginx");
const SIZE = 300_000;
// Spaces, '#', '?', '%', '+', ';', '&', '=' and non-ASCII letters: everything a URL or header can trip on.
const TRICKY = ["Sigur Rós/Ágætis byrjun 100%/Sigur Rós #1 (live?).flac", "odd/a%20b+c;d&e=f.flac"];

const records: LogRecord[] = [];
let root: string;
let server: http.Server;
let base: string;
const bytes = new Map<string, Buffer>();
const files = new Map<string, Omit<MediaFile, "handle">>();

async function addFile(relative: string, size: number): Promise<void> {
  const filePath = path.join(root, relative);
  await mkdir(path.dirname(filePath), { recursive: true });
  const data = randomBytes(size);
  await writeFile(filePath, data);
  const { mtime } = await stat(filePath);
  bytes.set(relative, data);
  files.set(relative, { path: filePath, mimeType: "audio/flac", size, mtime });
}

/** Two modes over the same files: direct streaming, and X-Accel-Redirect for nginx. */
function mediaApp(): express.Express {
  const app = express();
  const lookup = (id: string) => files.get(TRICKY[Number(id)] ?? id) ?? { ...files.get("big.flac")!, path: path.join(root, "gone.flac") };
  // As the stream routes do: open inside the folder first (a refusal is a 404), close once answered.
  const send = async (req: express.Request, res: express.Response, accelPath?: string) => {
    const file = lookup(String(req.params.id));
    const opened = await openInside(root, file.path).catch((error: unknown) => {
      throw error instanceof RefusedFile ? new NotFound("media file") : error;
    });
    try {
      await sendMedia(req, res, { ...file, handle: opened.handle, accelPath });
    } finally {
      await opened.handle.close();
    }
  };
  app.get("/api/media/:id/direct", (req, res) => send(req, res));
  app.get("/api/media/:id/accel", (req, res) => send(req, res, `/_protected/media/${TRICKY[Number(req.params.id)]!}`));
  // A redirect the app would never send (it sends real paths): nginx itself must refuse the link.
  app.get("/api/media-raw/:dir/:name", (req, res) => {
    res.set("X-Accel-Redirect", encodeAccelPath(`/_protected/media/${req.params.dir}/${req.params.name}`)).end();
  });
  app.use(errorHandler);
  return app;
}

beforeAll(async () => {
  await configure({
    reset: true,
    sinks: { capture: (record) => records.push(record) },
    loggers: [
      { category: ["polyphony"], lowestLevel: "debug", sinks: ["capture"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["capture"] },
    ],
  });
  root = await mkdtemp(path.join(os.tmpdir(), "polyphony-media-"));
  await addFile(TRICKY[0]!, SIZE);
  await addFile(TRICKY[1]!, 1_000);
  await addFile("big.flac", 16 * 1024 * 1024);
  server = http.createServer(mediaApp());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(root, { recursive: true, force: true });
});

async function request(url: string, headers: Record<string, string> = {}, method = "GET") {
  const res = await fetch(url, { method, headers });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

const direct = (headers?: Record<string, string>, method?: string) => request(`${base}/api/media/0/direct`, headers, method);
const data = () => bytes.get(TRICKY[0]!)!;

describe("sendMedia, direct", () => {
  it("sends the whole file with validators and private caching", async () => {
    const res = await direct();
    expect(res.status).toBe(200);
    expect(res.body.equals(data())).toBe(true);
    expect(res.headers.get("content-type")).toBe("audio/flac");
    expect(res.headers.get("content-length")).toBe(String(SIZE));
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]+-[0-9a-f]+-[\w-]+"$/);
    expect(res.headers.get("last-modified")).toBe(files.get(TRICKY[0]!)!.mtime.toUTCString());
    expect(res.headers.get("cache-control")).toBe("private, max-age=3600");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("answers HEAD with the same headers and no body", async () => {
    const res = await direct({}, "HEAD");
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect(res.headers.get("content-length")).toBe(String(SIZE));
    expect(res.headers.get("etag")).toBe((await direct()).headers.get("etag"));
  });

  it.each([
    ["bytes=0-0", 0, 0],
    ["bytes=100-199", 100, 199],
    ["bytes=1000-", 1000, SIZE - 1],
    ["bytes=-500", SIZE - 500, SIZE - 1],
    ["bytes=-400000", 0, SIZE - 1],
    ["bytes=299990-400000", 299_990, SIZE - 1],
    ["Bytes= 5-9 ,", 5, 9],
  ])("answers Range %s with 206 and exactly bytes %i-%i", async (range, start, end) => {
    const res = await direct({ range });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${SIZE}`);
    expect(res.headers.get("content-length")).toBe(String(end - start + 1));
    expect(res.body.equals(data().subarray(start, end + 1))).toBe(true);
  });

  it.each(["bytes=300000-", "bytes=999999-1000000", "bytes=-0"])("answers unsatisfiable %s with 416", async (range) => {
    const res = await direct({ range });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe(`bytes */${SIZE}`);
    expect(res.body.length).toBe(0);
  });

  it.each(["bytes=0-1,5-6", "bytes=abc", "bytes=5-2", "items=0-1", "bytes=", "bytes=-", "bytes=1-2-3", "0-1"])(
    "ignores Range %s (several ranges or malformed) and sends the whole file",
    async (range) => {
      const res = await direct({ range });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-range")).toBeNull();
      expect(res.body.equals(data())).toBe(true);
    },
  );

  it("ignores Range on HEAD, where it has no meaning", async () => {
    const res = await direct({ range: "bytes=0-9" }, "HEAD");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(SIZE));
  });

  it("answers 304 to a matching If-None-Match or a recent If-Modified-Since", async () => {
    const { headers } = await direct({}, "HEAD");
    const etag = headers.get("etag")!;
    const conditionals: Record<string, string>[] = [
      { "if-none-match": etag },
      { "if-none-match": `"other", W/${etag}` },
      { "if-none-match": "*" },
      { "if-modified-since": headers.get("last-modified")! },
    ];
    for (const conditional of conditionals) {
      const res = await direct(conditional);
      expect(res.status).toBe(304);
      expect(res.body.length).toBe(0);
      expect(res.headers.get("etag")).toBe(etag);
      expect(res.headers.get("cache-control")).toBe("private, max-age=3600");
    }
  });

  it("sends the file when the validators do not match", async () => {
    const lastModified = files.get(TRICKY[0]!)!.mtime;
    const older = new Date(lastModified.getTime() - 60_000).toUTCString();
    // If-None-Match wins over If-Modified-Since.
    const conditionals: Record<string, string>[] = [
      { "if-none-match": '"other"' },
      { "if-modified-since": older },
      { "if-none-match": '"x"', "if-modified-since": lastModified.toUTCString() },
    ];
    for (const conditional of conditionals) {
      const res = await direct(conditional);
      expect(res.status).toBe(200);
      expect(res.body.equals(data())).toBe(true);
    }
  });

  it("honours If-Range only when it matches strongly", async () => {
    const { headers } = await direct({}, "HEAD");
    const etag = headers.get("etag")!;
    const partial = await direct({ range: "bytes=10-19", "if-range": etag });
    expect(partial.status).toBe(206);
    expect(partial.body.equals(data().subarray(10, 20))).toBe(true);
    expect((await direct({ range: "bytes=10-19", "if-range": headers.get("last-modified")! })).status).toBe(206);
    for (const ifRange of ['"changed"', `W/${etag}`, "Mon, 01 Jan 2001 00:00:00 GMT", "garbage"]) {
      const full = await direct({ range: "bytes=10-19", "if-range": ifRange });
      expect(full.status).toBe(200);
      expect(full.body.equals(data())).toBe(true);
    }
  });

  it("answers 404 without caching headers when the file has vanished", async () => {
    const res = await request(`${base}/api/media/gone/direct`);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString()).error.code).toBe("not_found");
    expect(res.headers.get("cache-control")).toBeNull();
    expect(res.headers.get("last-modified")).toBeNull();
  });

  it("survives a client that aborts mid-stream, closes the file and logs no error", async () => {
    records.length = 0;
    const big = files.get("big.flac")!;
    const received = await new Promise<number>((resolve, reject) => {
      const req = http.get(`${base}/api/media/big.flac/direct`, (res) => {
        res.once("data", (chunk: Buffer) => {
          req.destroy();
          resolve(chunk.length);
        });
      });
      req.on("error", (error) => (req.destroyed ? undefined : reject(error)));
    });
    expect(received).toBeLessThan(big.size);
    // The read stream's descriptor must be closed once the server notices the abort.
    await waitUntil(() => !openDescriptors().includes(big.path) || undefined);
    await waitUntil(() => records.some((r) => r.message.join("").includes("stopped reading")) || undefined);
    expect(records.filter((r) => r.level === "warning" || r.level === "error" || r.level === "fatal")).toEqual([]);
    const after = await request(`${base}/api/media/big.flac/direct`, { range: "bytes=-10" });
    expect(after.status).toBe(206);
    expect(after.body.equals(bytes.get("big.flac")!.subarray(-10))).toBe(true);
  });

  it("in nginx mode answers with an encoded X-Accel-Redirect and no body", async () => {
    const res = await request(`${base}/api/media/0/accel`, { range: "bytes=0-9" });
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect(res.headers.get("x-accel-redirect")).toBe(
      "/_protected/media/Sigur%20R%C3%B3s/%C3%81g%C3%A6tis%20byrjun%20100%25/Sigur%20R%C3%B3s%20%231%20(live%3F).flac",
    );
    expect(res.headers.get("content-type")).toBe("audio/flac");
    expect(res.headers.get("cache-control")).toBe("private, max-age=3600");
  });

  it("refuses an X-Accel-Redirect path that climbs out of its location", () => {
    expect(() => encodeAccelPath("/_protected/media/../secret")).toThrow(/unsafe/);
    expect(() => encodeAccelPath("relative/file.flac")).toThrow(/unsafe/);
    expect(encodeAccelPath("/_protected/media/a b/c#d")).toBe("/_protected/media/a%20b/c%23d");
  });
});

/** Paths of the descriptors this process has open (Linux). */
function openDescriptors(): string[] {
  return readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return [];
    }
  });
}

describe.skipIf(!nginx)("sendMedia behind nginx (config/nginx/polyphony.conf)", () => {
  let proxy: RunningNginx;
  beforeAll(async () => {
    proxy = await startNginx({ upstreamPort: Number(new URL(base).port), mediaRoot: root });
  });
  afterAll(() => proxy?.stop());

  const viaNginx = (id: number, headers?: Record<string, string>) => request(`${proxy.url}/api/media/${id}/accel`, headers);

  it.each([0, 1])("serves file %i whole, keeping the app's Content-Type and hiding X-Accel-Redirect", async (id) => {
    const res = await viaNginx(id);
    expect(res.status).toBe(200);
    expect(res.body.equals(bytes.get(TRICKY[id]!)!)).toBe(true);
    expect(res.headers.get("content-type")).toBe("audio/flac");
    expect(res.headers.get("cache-control")).toBe("private, max-age=3600");
    expect(res.headers.get("x-accel-redirect")).toBeNull();
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it.each([
    ["bytes=100-199", 100, 199],
    ["bytes=-500", SIZE - 500, SIZE - 1],
    ["bytes=299000-", 299_000, SIZE - 1],
  ])("lets nginx answer Range %s with 206 and exactly bytes %i-%i", async (range, start, end) => {
    const res = await viaNginx(0, { range });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${SIZE}`);
    expect(res.body.equals(data().subarray(start, end + 1))).toBe(true);
    expect(res.headers.get("content-type")).toBe("audio/flac");
    expect(res.headers.get("x-accel-redirect")).toBeNull();
  });

  it("lets nginx answer 416 and conditional requests with its own validators", async () => {
    expect((await viaNginx(0, { range: "bytes=300000-" })).status).toBe(416);
    const { headers } = await viaNginx(0);
    const revalidated = await viaNginx(0, { "if-none-match": headers.get("etag")! });
    expect(revalidated.status).toBe(304);
    expect(revalidated.body.length).toBe(0);
  });

  it("refuses a path with a symbolic link in it, even when the app asks (a link swapped in after the app's check)", async () => {
    await symlink(path.join(root, "odd"), path.join(root, "linked"));
    const name = encodeURIComponent(path.basename(TRICKY[1]!));
    try {
      expect((await request(`${proxy.url}/api/media-raw/odd/${name}`)).status).toBe(200);
      expect((await request(`${proxy.url}/api/media-raw/linked/${name}`)).status).toBe(404);
    } finally {
      await rm(path.join(root, "linked"));
    }
  });

  it("keeps the media location internal", async () => {
    const res = await request(`${proxy.url}/_protected/media/odd/a%2520b+c;d&e=f.flac`);
    expect(res.status).toBe(404);
    expect(await proxy.errorLog()).not.toMatch(/unsafe URI|No such file/);
  });
});
