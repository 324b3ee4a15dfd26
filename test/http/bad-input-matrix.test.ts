import http from "node:http";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureLogging, type LogRecord } from "../../config/logging.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { PASSWORD, TestClient } from "../helpers/client.ts";
import { subsonicCredentials, type Credentials } from "../subsonic/helpers.ts";

/**
 * Every class of bad input, sent to every route family (REST, Subsonic, federation, media), must get a
 * clear refusal: an HTTP 4xx with the JSON error shape, or Subsonic's envelope with the right code.
 * Never a 500, and never an error-level log line (those page an operator for a client's mistake).
 */

const records: LogRecord[] = [];
let app: TestApp;
let client: TestClient;
let creds: Credentials;
let library: string;
let playlist: string;

beforeAll(async () => {
  await configureLogging({ log: { level: "debug", format: "json" } }, { capture: (record) => records.push(record) });
  app = await startTestApp();
  client = new TestClient(app.url);
  creds = await subsonicCredentials(client, "matrix");
  library = (await client.post("/api/v1/libraries", { name: "Matrix" })).body.id;
  playlist = (await client.post("/api/v1/playlists", { name: "Matrix" })).body.id;
});
afterAll(() => app?.close());

interface RawResponse {
  status: number;
  type: string;
  text: string;
}

/** node:http rather than fetch: fetch would normalise the path and refuse some of these requests. */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<RawResponse> {
  const url = new URL(app.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method, path, headers: { ...authHeaders(), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode!, type: res.headers["content-type"] ?? "", text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function authHeaders(): Record<string, string> {
  return { cookie: client.cookie!, "x-csrf-token": client.csrfToken! };
}

const json = (value: unknown) => ({ headers: { "content-type": "application/json" }, body: JSON.stringify(value) });
const NUL = "\u0000";
const nul = (text: string) => `${text}${NUL}x`;

interface Case {
  name: string;
  method?: string;
  path: string | (() => string);
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Where the input is taken (cleaned) rather than refused: the exact status expected. */
  status?: number;
}

/** Subsonic: the parameters in the query (`f=json` added) with the test user's credentials unless given. */
function subsonic(method: string, params: Record<string, string>, withAuth = true): string {
  const search = new URLSearchParams({ v: "1.16.1", c: "matrix", f: "json", ...(withAuth ? { u: creds.username, p: creds.password } : {}), ...params });
  return `/rest/${method}?${search.toString()}`;
}

const id = () => "00000000-0000-4000-8000-000000000000";
/** JSON nested deeper than a recursive walk's call stack (about 100 KB, under the body limit). */
const deep = (levels = 50_000) => "[".repeat(levels) + "]".repeat(levels);
const garbageGzip = Buffer.concat([gzipSync("{}").subarray(0, 10), Buffer.from("this is not deflate data at all")]);

const REST_CASES: Case[] = [
  // NUL in JSON text fields
  { name: "signup username", method: "POST", path: "/api/v1/auth/signup", ...json({ username: nul("eve"), password: PASSWORD }) },
  { name: "signup password", method: "POST", path: "/api/v1/auth/signup", ...json({ username: "eve", password: nul(PASSWORD) }) },
  { name: "signup email", method: "POST", path: "/api/v1/auth/signup", ...json({ username: "eve2", email: nul("a@b.c"), password: PASSWORD }) },
  { name: "signup invite code", method: "POST", path: "/api/v1/auth/signup", ...json({ username: "eve3", password: PASSWORD, inviteCode: nul("x") }) },
  { name: "login username", method: "POST", path: "/api/v1/auth/login", ...json({ username: nul("matrix"), password: PASSWORD }) },
  { name: "login password", method: "POST", path: "/api/v1/auth/login", ...json({ username: "matrix", password: nul(PASSWORD) }) },
  { name: "library name", method: "POST", path: "/api/v1/libraries", ...json({ name: nul("Lib") }) },
  { name: "library description", method: "POST", path: "/api/v1/libraries", ...json({ name: "Lib", description: nul("d") }) },
  { name: "library music folder", method: "POST", path: "/api/v1/libraries", ...json({ name: "Lib", musicFolder: nul("/tmp") }) },
  { name: "library rename", method: "PATCH", path: () => `/api/v1/libraries/${library}`, ...json({ name: nul("Lib") }) },
  { name: "playlist name", method: "POST", path: "/api/v1/playlists", ...json({ name: nul("P") }) },
  { name: "playlist description", method: "PATCH", path: () => `/api/v1/playlists/${playlist}`, ...json({ description: nul("d") }) },
  { name: "token name", method: "POST", path: "/api/v1/tokens", ...json({ name: nul("cli") }) },
  { name: "password change", method: "POST", path: "/api/v1/me/password", ...json({ currentPassword: nul(PASSWORD), newPassword: `${PASSWORD}!` }) },
  { name: "NUL in a JSON key", method: "POST", path: "/api/v1/playlists", ...json({ name: "P", [nul("k")]: 1 }) },
  // JSON nested deeper than a call stack
  { name: "deeply nested body", method: "POST", path: "/api/v1/playlists", headers: { "content-type": "application/json" }, body: deep() },
  { name: "deeply nested field", method: "POST", path: "/api/v1/playlists", headers: { "content-type": "application/json" }, body: `{"name":"P","description":${deep()}}` },
  // NUL in query strings
  { name: "search q", path: "/api/v1/search?q=a%00b" },
  { name: "browse genre", path: "/api/v1/tracks?genre=a%00b" },
  { name: "browse seed", path: "/api/v1/albums?sort=random&seed=a%00b" },
  { name: "uploads status", path: "/api/v1/uploads?status=a%00b" },
  { name: "playlist import name", method: "POST", path: "/api/v1/playlists/import?name=a%00b", headers: { "content-type": "audio/x-mpegurl" }, body: "#EXTM3U\n" },
  { name: "playlist import file", method: "POST", path: "/api/v1/playlists/import?format=m3u8", headers: { "content-type": "audio/x-mpegurl" }, body: `#EXTM3U\n#PLAYLIST:${nul("a")}\n#EXTINF:10,${nul("b")} - c\nx${NUL}.mp3\n`, status: 201 },
  // malformed percent-escapes in paths
  { name: "album id escape", path: "/api/v1/albums/%E0%A4%A" },
  { name: "bare percent", path: "/api/v1/albums/%" },
  { name: "cover hash escape", path: "/api/v1/covers/%ff/600.jpg" },
  { name: "cover file escape", path: "/api/v1/covers/abc/%zz" },
  { name: "upload stream escape", path: "/api/v1/uploads/%zz/stream" },
  { name: "track stream escape", path: "/api/v1/tracks/%E0%A4%A/stream" },
  { name: "NUL in a path id", path: "/api/v1/tracks/%00" },
  { name: "NUL in a cover hash", path: "/api/v1/covers/%00/600.jpg" },
  // bad Content-Encoding
  { name: "gzip garbage", method: "POST", path: "/api/v1/auth/login", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: garbageGzip },
  { name: "deflate garbage", method: "POST", path: "/api/v1/playlists", headers: { "content-type": "application/json", "content-encoding": "deflate" }, body: "nope" },
  { name: "unknown encoding", method: "POST", path: "/api/v1/playlists", headers: { "content-type": "application/json", "content-encoding": "zstd-ish" }, body: "{}" },
  { name: "bad charset", method: "POST", path: "/api/v1/playlists", headers: { "content-type": "application/json; charset=klingon" }, body: "{}" },
  { name: "playlist import gzip garbage", method: "POST", path: "/api/v1/playlists/import", headers: { "content-type": "audio/x-mpegurl", "content-encoding": "gzip" }, body: garbageGzip },
  // out-of-range and non-numeric integers
  { name: "huge offset", path: "/api/v1/albums?offset=99999999999999999999" },
  { name: "huge upload offset", path: "/api/v1/uploads?offset=99999999999999999999" },
  { name: "huge playlist offset", path: "/api/v1/playlists?offset=99999999999999999999" },
  { name: "huge playlist items offset", path: () => `/api/v1/playlists/${playlist}?offset=99999999999999999999` },
  { name: "huge admin offset", path: "/api/v1/admin/users?offset=99999999999999999999" },
  { name: "infinite limit", path: "/api/v1/tracks?limit=1e400" },
  { name: "negative limit", path: "/api/v1/search?q=a&limit=-5" },
  { name: "non-numeric limit", path: "/api/v1/artists?limit=lots" },
  { name: "huge year", path: "/api/v1/albums?yearFrom=1e400" },
  { name: "repeated offset", path: "/api/v1/albums?offset=1&offset=2" },
  { name: "huge position", method: "POST", path: () => `/api/v1/playlists/${playlist}/items/${id()}/move`, ...json({ position: 1e300 }) },
  { name: "huge token lifetime", method: "POST", path: "/api/v1/tokens", ...json({ name: "t", expiresInDays: 1e300 }) },
  // bad UUIDs
  { name: "short uuid", path: "/api/v1/artists/1234" },
  { name: "uuid with junk", path: `/api/v1/libraries/${"0".repeat(8)}-0000-0000-0000-00000000000g` },
  { name: "bad uuid in a body", method: "POST", path: () => `/api/v1/playlists/${playlist}/items`, ...json({ trackIds: ["not-a-uuid"] }) },
  { name: "bad uuid in a query", path: "/api/v1/uploads?library=zzz" },
  { name: "favourite bad kind and id", method: "PUT", path: "/api/v1/favorites/albums/%00" },
];

describe("REST refuses bad input with a 4xx and the JSON error shape", () => {
  it.each(REST_CASES)("$name", async (c) => {
    const path = typeof c.path === "function" ? c.path() : c.path;
    const res = await raw(c.method ?? "GET", path, c.headers, c.body);
    if (c.status) return void expect(res.status, res.text).toBe(c.status);
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    expect(res.status, res.text).toBeLessThan(500);
    expect(JSON.parse(res.text)).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
  });
});

const FEDERATION_AND_OTHER_CASES: Case[] = [
  { name: "actor escape", path: "/actors/%zz", headers: { accept: "application/activity+json" } },
  { name: "actor NUL", path: "/actors/a%00b", headers: { accept: "application/activity+json" } },
  { name: "actor inbox NUL", method: "POST", path: "/actors/a%00b/inbox", headers: { "content-type": "application/activity+json" }, body: "{}" },
  { name: "actor outbox NUL", path: "/actors/a%00b/outbox", headers: { accept: "application/activity+json" } },
  { name: "actor followers NUL", path: "/actors/a%00b/followers", headers: { accept: "application/activity+json" } },
  { name: "webfinger NUL", path: "/.well-known/webfinger?resource=acct:a%00b@polyphony.test" },
  { name: "webfinger escape", path: "/.well-known/webfinger?resource=%zz" },
  { name: "webfinger url NUL", path: "/.well-known/webfinger?resource=http://polyphony.test/actors/a%00b" },
  { name: "shared inbox gzip garbage", method: "POST", path: "/inbox", headers: { "content-type": "application/activity+json", "content-encoding": "gzip" }, body: garbageGzip },
  { name: "shared inbox NUL", method: "POST", path: "/inbox", headers: { "content-type": "application/activity+json" }, body: JSON.stringify({ type: nul("Follow") }) },
  // methods a fetch Request refuses to carry, on Fedify's routes
  { name: "TRACE an actor", method: "TRACE", path: "/actors/matrix" },
  { name: "TRACK the shared inbox", method: "TRACK", path: "/inbox" },
  { name: "TRACE webfinger", method: "TRACE", path: "/.well-known/webfinger?resource=acct:matrix@polyphony.test" },
  { name: "inbox deeply nested", method: "POST", path: "/inbox", headers: { "content-type": "application/activity+json" }, body: `{"type":"Follow","actor":"https://elsewhere.test/u","object":${deep()}}` },
  { name: "inbox body not an object", method: "POST", path: "/inbox", headers: { "content-type": "application/activity+json" }, body: "[1, 2]" },
  { name: "inbox unknown encoding", method: "POST", path: "/actors/matrix/inbox", headers: { "content-type": "application/activity+json", "content-encoding": "br" }, body: "{}" },
  { name: "unsigned activity to a real inbox", method: "POST", path: "/actors/matrix/inbox", headers: { "content-type": "application/activity+json" }, body: JSON.stringify({ "@context": "https://www.w3.org/ns/activitystreams", type: "Follow", id: "https://elsewhere.test/f/1", actor: "https://elsewhere.test/u", object: "http://polyphony.test/actors/matrix" }) },
  { name: "root bare percent", path: "/%" },
  { name: "Subsonic method with a bare percent", path: "/rest/ping%" },
  { name: "unknown actor's inbox", method: "POST", path: "/actors/nobody/inbox", headers: { "content-type": "application/activity+json" }, body: JSON.stringify({ type: "Follow", actor: "https://elsewhere.test/u" }) },
  { name: "page escape", path: "/albums/%E0%A4%A" },
];

describe("federation and other paths refuse bad input with a 4xx", () => {
  it.each(FEDERATION_AND_OTHER_CASES)("$name", async (c) => {
    const path = typeof c.path === "function" ? c.path() : c.path;
    const res = await raw(c.method ?? "GET", path, c.headers, c.body);
    if (c.status) return void expect(res.status, res.text).toBe(c.status);
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    expect(res.status, res.text).toBeLessThan(500);
  });
});

interface SubsonicCase extends Case {
  /** The error code in a failed envelope, or "ok" where the input is taken leniently. */
  code: number | "ok";
}

const SUBSONIC_CASES: SubsonicCase[] = [
  // NUL in parameters
  { name: "u", path: () => subsonic("ping", { u: nul("matrix"), p: creds.password }, false), code: 0 },
  { name: "c", path: () => subsonic("ping", { c: nul("app") }), code: 0 },
  { name: "p", path: () => subsonic("ping", { u: creds.username, p: nul(creds.password) }, false), code: 0 },
  { name: "apiKey", path: () => subsonic("ping", { apiKey: nul("k") }, false), code: 0 },
  { name: "query", path: () => subsonic("search3", { query: nul("a") }), code: 0 },
  { name: "name", path: () => subsonic("createPlaylist", { name: nul("p") }), code: 0 },
  { name: "id", path: () => subsonic("getAlbum", { id: nul("al-1") }), code: 0 },
  { name: "genre", path: () => subsonic("getSongsByGenre", { genre: nul("Rock") }), code: 0 },
  { name: "comment", path: () => subsonic("updatePlaylist", { playlistId: id(), comment: nul("c") }), code: 0 },
  { name: "artist", path: () => subsonic("getLyrics", { artist: nul("a"), title: "t" }), code: 0 },
  { name: "formPost NUL", method: "POST", path: "/rest/ping.view", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "v=1.16.1&c=x%00y&f=json", code: 0 },
  // malformed escapes
  // A malformed escape in a query string decodes leniently (to U+FFFD), as browsers do: an answer, not an error.
  { name: "query escape", path: () => `${subsonic("search3", {})}&query=%E0%A4%A`, code: "ok" },
  // bad Content-Encoding on the formPost body
  { name: "formPost gzip garbage", method: "POST", path: "/rest/ping.view?f=json", headers: { "content-type": "application/x-www-form-urlencoded", "content-encoding": "gzip" }, body: garbageGzip, code: 0 },
  { name: "formPost unknown encoding", method: "POST", path: "/rest/ping.view?f=json", headers: { "content-type": "application/x-www-form-urlencoded", "content-encoding": "zstd-ish" }, body: "v=1", code: 0 },
  // out-of-range and non-numeric integers
  { name: "huge size", path: () => subsonic("getAlbumList2", { type: "newest", size: "99999999999999999999" }), code: 0 },
  { name: "huge offset", path: () => subsonic("getAlbumList2", { type: "newest", offset: "99999999999999999999" }), code: 0 },
  { name: "infinite count", path: () => subsonic("search3", { query: "a", songCount: "1e400" }), code: 0 },
  { name: "negative count", path: () => subsonic("search3", { query: "a", songCount: "-1" }), code: 0 },
  { name: "negative offset", path: () => subsonic("search3", { query: "a", songOffset: "-10" }), code: 0 },
  { name: "huge random size", path: () => subsonic("getRandomSongs", { size: "99999999999999999999" }), code: 0 },
  { name: "huge year", path: () => subsonic("getAlbumList2", { type: "byYear", fromYear: "99999999999999999999", toYear: "1" }), code: 0 },
  { name: "huge position", path: () => subsonic("savePlayQueue", { id: id(), position: "99999999999999999999" }), code: 0 },
  { name: "huge folder", path: () => subsonic("getIndexes", { musicFolderId: "99999999999999999999" }), code: 0 },
  { name: "huge ifModifiedSince", path: () => subsonic("getIndexes", { ifModifiedSince: "99999999999999999999" }), code: 0 },
  { name: "huge similar count", path: () => subsonic("getSimilarSongs2", { id: id(), count: "99999999999999999999" }), code: 0 },
  { name: "non-numeric size", path: () => subsonic("getAlbumList2", { type: "newest", size: "many" }), code: 0 },
  { name: "huge rating", path: () => subsonic("setRating", { id: id(), rating: "99999999999999999999" }), code: 0 },
  { name: "huge scrobble time", path: () => subsonic("scrobble", { id: id(), time: "99999999999999999999" }), code: 0 },
  // bad ids
  { name: "bad album id", path: () => subsonic("getAlbum", { id: "zzz" }), code: 70 },
  { name: "bad song id", path: () => subsonic("getSong", { id: "%" }), code: 70 },
  { name: "bad stream id", path: () => subsonic("stream", { id: "not-a-uuid" }), code: 70 },
  { name: "bad playlist id", path: () => subsonic("getPlaylist", { id: "1' OR '1'='1" }), code: 70 },
];

describe("Subsonic refuses bad input with its envelope and the right code", () => {
  it.each(SUBSONIC_CASES)("$name", async (c) => {
    const path = typeof c.path === "function" ? c.path() : c.path;
    const res = await raw(c.method ?? "GET", path, c.headers, c.body);
    expect(res.status, res.text).toBe(200);
    const body = JSON.parse(res.text)["subsonic-response"];
    if (c.code === "ok") expect(body, res.text).toMatchObject({ status: "ok" });
    else expect(body, res.text).toMatchObject({ status: "failed", error: { code: c.code } });
  });
});

describe("after all of it", () => {
  it("logged nothing at error level, and the server still answers", async () => {
    const errors = records.filter((r) => r.level === "error" || r.level === "fatal");
    expect(errors.map((r) => ({ category: r.category.join("."), message: r.message.join(""), properties: r.properties }))).toEqual([]);
    expect((await raw("GET", "/api/v1/health")).status).toBe(200);
  });
});
