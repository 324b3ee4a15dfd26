import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureLogging, type LogRecord } from "../../config/logging.ts";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";
import { subsonicCredentials, tokenParams, type Credentials } from "../subsonic/helpers.ts";
import { sleep, waitUntil } from "../helpers/wait.ts";

const records: LogRecord[] = [];
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/** Lines at warning level or above, from us or from Fedify. */
const loud = () => records.filter((r) => ["warning", "error", "fatal"].includes(r.level));

/** A line carries a stack when one of its values is an Error or a rendered stack. */
const hasStack = (record: LogRecord) =>
  Object.values(record.properties).some((value) => value instanceof Error || /\n\s+at /.test(String(value)));

describe.skipIf(!hasFfmpeg())("log hygiene", () => {
  let app: TestApp;
  let client: TestClient;
  let creds: Credentials;
  let library: string;
  let dir: string;
  const upload: Record<string, string> = {};

  beforeAll(async () => {
    await configureLogging({ log: { level: "debug", format: "json" } }, { capture: (record) => records.push(record) });
    app = await startTestApp({ worker: true });
    client = new TestClient(app.url);
    creds = await subsonicCredentials(client, "listener");
    library = (await client.post("/api/v1/libraries", { name: "Mine" })).body.id;
    dir = await mkdtemp(path.join(os.tmpdir(), "log-hygiene-"));
    // Both far larger than the socket buffers, so the server is still sending when the client hangs up.
    const wav = await makeAudio(dir, { name: "plain", format: "wav", seconds: 60, tags: { TITLE: "Plain" } });
    const flac = await makeAudio(dir, { name: "long", format: "flac", seconds: 600, ffmpegArgs: ["-af", "volume=0"], tags: { TITLE: "Long" } });
    const res = await client.upload(`/api/v1/libraries/${library}/uploads`, [
      { name: "plain.wav", data: await readFile(wav) },
      { name: "long.flac", data: await readFile(flac) },
    ]);
    for (const u of res.body.uploads) upload[u.originalName] = u.id;
    await waitForImports(app.db.pool, library);
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Reads the first bytes of an answer, then hangs up, as a player skipping a track does. */
  function readThenHangUp(url: string, headers: Record<string, string> = {}): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.get(url, { headers }, (res) => {
        res.once("data", () => {
          req.destroy();
          resolve(res.statusCode!);
        });
      });
      req.on("error", (error) => (req.destroyed ? undefined : reject(error)));
    });
  }

  /** Waits for the debug line a client going away leaves, and returns it. */
  const goneLine = (pattern: RegExp) =>
    waitUntil(() => records.find((r) => r.level === "debug" && pattern.test(r.message.join(""))));

  it("a page URL answered by the web UI logs no Fedify warning; ActivityPub clients still get the actor", async () => {
    records.length = 0;
    for (const page of ["/libraries/xyz", "/settings", "/actors/listener", "/"]) {
      const res = await fetch(`${app.url}${page}`, { headers: { accept: BROWSER_ACCEPT } });
      expect(res.status, page).toBe(200);
      expect(res.headers.get("content-type"), page).toMatch(/^text\/html/);
    }
    // curl's default: the web UI still answers, and Fedify never saw a path it does not route.
    const curled = await fetch(`${app.url}/libraries/xyz`, { headers: { accept: "*/*" } });
    expect(curled.headers.get("content-type")).toMatch(/^text\/html/);
    const actor = await fetch(`${app.url}/actors/listener`, { headers: { accept: "application/activity+json" } });
    expect(actor.status).toBe(200);
    expect((await actor.json()).preferredUsername).toBe("listener");
    expect(records.some((r) => r.category.join(".") === "polyphony.http.access")).toBe(true);
    expect(loud()).toEqual([]);
  });

  it("an actor URL opened by curl, a WebFinger lookup of an unknown account and a GET of the inbox log no warning", async () => {
    records.length = 0;
    const curled = await fetch(`${app.url}/actors/listener`, { headers: { accept: "*/*" } });
    expect([curled.status, curled.headers.get("content-type")]).toEqual([200, expect.stringMatching(/^text\/html/)]);
    const unknown = await fetch(`${app.url}/.well-known/webfinger?resource=${encodeURIComponent("acct:nobody@polyphony.test")}`);
    expect(unknown.status).toBe(404);
    const inbox = await fetch(`${app.url}/inbox`, { headers: { accept: "application/activity+json" } });
    expect(inbox.status).toBeGreaterThanOrEqual(400);
    expect(inbox.status).toBeLessThan(500);
    // Each still has its line in our access log.
    expect(records.filter((r) => r.category.join(".") === "polyphony.http.access")).toHaveLength(3);
    expect(loud()).toEqual([]);
  });

  it("a listener leaving a media stream is a debug line without a stack", async () => {
    records.length = 0;
    expect(await readThenHangUp(`${app.url}/api/v1/uploads/${upload["plain.wav"]}/stream`, { cookie: client.cookie! })).toBe(200);
    const line = await goneLine(/Client stopped reading/);
    expect(hasStack(line)).toBe(false);
    expect(loud()).toEqual([]);
  });

  it("a listener leaving a transcode is a debug line without a stack", async () => {
    records.length = 0;
    const trackId = (await client.get(`/api/v1/uploads/${upload["long.flac"]}`)).body.trackId;
    const query = new URLSearchParams({ ...tokenParams(creds), id: trackId, format: "mp3", maxBitRate: "320" });
    expect(await readThenHangUp(`${app.url}/rest/stream?${query}`)).toBe(200);
    const line = await goneLine(/Client stopped reading the transcode/);
    expect(hasStack(line)).toBe(false);
    expect(loud()).toEqual([]);
  });

  /** Sends the start of a request body that claims 4 MB, then hangs up, as a cancelled upload does. */
  async function sendPartThenHangUp(pathname: string, contentType: string, start: string | Buffer): Promise<void> {
    const req = http.request(`${app.url}${pathname}`, {
      method: "POST",
      headers: { cookie: client.cookie!, "x-csrf-token": client.csrfToken!, "content-type": contentType, "content-length": String(4 * 1024 * 1024) },
    });
    req.on("error", () => {}); // we hang up ourselves
    await new Promise((resolve) => req.write(start, resolve));
    await sleep(200); // the server starts reading the body
    req.destroy();
  }

  it("an uploader hanging up mid-file is a debug line without a stack", async () => {
    records.length = 0;
    const part = `--hygiene\r\nContent-Disposition: form-data; name="files"; filename="gone.mp3"\r\n\r\n`;
    await sendPartThenHangUp(`/api/v1/libraries/${library}/uploads`, "multipart/form-data; boundary=hygiene",
      Buffer.concat([Buffer.from(part), Buffer.alloc(256 * 1024, 1)]));
    const line = await goneLine(/Client went away during POST/);
    expect(hasStack(line)).toBe(false);
    expect(loud()).toEqual([]);
    expect((await app.db.pool.query("SELECT count(*)::int AS n FROM upload WHERE original_name = 'gone.mp3'")).rows[0].n).toBe(0);
  });

  it("a body cut short before a body parser finished (a playlist file) is a debug line, not a 500", async () => {
    records.length = 0;
    await sendPartThenHangUp("/api/v1/playlists/import?format=m3u8", "audio/x-mpegurl", "#EXTM3U\n#EXTINF:1,Half\n");
    const line = await goneLine(/Client went away during POST \/api\/v1\/playlists\/import/);
    expect(hasStack(line)).toBe(false);
    expect(loud()).toEqual([]);
  });

  it("a scan of a music folder that cannot be read is a warning with its reason, not a job error with a stack", async () => {
    const folder = path.join(dir, "usb-disk");
    await mkdir(folder);
    const id = (await client.post("/api/v1/libraries", { name: "USB disk", musicFolder: folder })).body.id;
    await rm(folder, { recursive: true });
    records.length = 0;
    expect((await client.post(`/api/v1/libraries/${id}/scan`)).status).toBe(202);
    // Three attempts (a disk mounted meanwhile is read), then the import status names the reason.
    const status = await waitUntil(async () => {
      const body = (await client.get(`/api/v1/libraries/${id}/import-status`)).body;
      return body.scanning ? undefined : body;
    }, { timeout: 60_000 });
    expect(status.scanError).toMatch(/cannot be read \(it does not exist\)/);
    const failures = records.filter((r) => r.category.join(".") === "polyphony.worker.graphile" && /failed/.test(r.message.join("")));
    expect(failures.length).toBeGreaterThan(0);
    for (const line of failures) expect([line.level, hasStack(line)]).toEqual(["warning", false]);
    expect(records.filter((r) => ["error", "fatal"].includes(r.level))).toEqual([]);
  }, 90_000);
});
