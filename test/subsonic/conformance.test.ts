import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg } from "../fixtures/audio.ts";
import { conformanceCatalog, type ConformanceCatalog } from "./conformance-catalog.ts";
import { rest, tokenParams, type Credentials } from "./helpers.ts";
import { seedFeatures } from "../helpers/analysis.ts";
import { expectFailedJson, expectValidJson, expectXmlLikeJson, RESPONSES } from "./schema.ts";
import { parseXml } from "./xml.ts";

type Params = Record<string, string | string[]>;

/**
 * One call of a method: its parameters (made per call: mutating methods get fresh targets), who calls,
 * and whether the XML answer must carry the very same values as the JSON one ("values") or only the
 * same shape ("shape": the two calls made different things, e.g. two new playlists).
 */
interface Case {
  method: string;
  params?: (c: ConformanceCatalog) => Params | Promise<Params>;
  auth?: "apiKey";
  compare?: "values" | "shape";
}

/** Every method the server answers, each with realistic parameters. Extend this list with new methods. */
const CASES: Case[] = [
  { method: "ping" },
  { method: "getLicense" },
  { method: "tokenInfo", auth: "apiKey" },
  { method: "getOpenSubsonicExtensions" },
  { method: "getMusicFolders" },
  { method: "getIndexes" },
  { method: "getMusicDirectory", params: ({ id }) => ({ id: id["The Beatles"]! }) },
  { method: "getMusicDirectory", params: ({ id }) => ({ id: id["Abbey Road"]! }) },
  { method: "getArtists" },
  { method: "getArtist", params: ({ id }) => ({ id: id["Björk"]! }) },
  { method: "getAlbum", params: ({ id }) => ({ id: id["Nouvelle Vague Sampler"]! }) },
  { method: "getSong", params: ({ id }) => ({ id: id["Náttúra"]! }) },
  { method: "getAlbumList2", params: () => ({ type: "alphabeticalByName", size: "500" }) },
  { method: "getAlbumList", params: () => ({ type: "highest" }) },
  { method: "getRandomSongs", params: () => ({ genre: "Pop" }) }, // one song: the same order twice
  { method: "getSongsByGenre", params: () => ({ genre: "Electronic" }) },
  { method: "getGenres" },
  { method: "getStarred2" },
  { method: "getStarred" },
  { method: "star", params: ({ id }) => ({ id: id["Come Together"]! }) },
  { method: "unstar", params: ({ id }) => ({ artistId: id["Daft Punk"]! }) },
  { method: "setRating", params: ({ id }) => ({ id: id.Something!, rating: "4" }) },
  { method: "scrobble", params: ({ id }) => ({ id: id["Around the World"]!, submission: "false" }) },
  { method: "getNowPlaying" },
  { method: "savePlayQueue", params: ({ id }) => ({ id: [id.Something!, id.Hunter!], current: id.Hunter!, position: "1000" }) },
  { method: "getPlayQueue" },
  { method: "getPlaylists" },
  { method: "getPlaylist", params: ({ id }) => ({ id: id["Road Trip"]! }) },
  { method: "createPlaylist", params: ({ id }) => ({ name: "Scratch", songId: [id.Hunter!, id.Hunter!] }), compare: "shape" },
  { method: "updatePlaylist", params: ({ id }) => ({ playlistId: id["Road Trip"]!, comment: "For the long drive" }) },
  { method: "deletePlaylist", params: async (c) => ({ id: await scratchPlaylist(c) }) },
  { method: "getUser", params: () => ({ username: "alice" }) },
  { method: "getScanStatus" },
  { method: "startScan" },
  { method: "getLyricsBySongId", params: ({ id }) => ({ id: id.Hunter! }) },
  { method: "getLyrics", params: () => ({ artist: "Björk", title: "Hunter" }) },
  { method: "getTopSongs", params: () => ({ artist: "The Beatles" }) },
  { method: "getSimilarSongs", params: async (c) => ({ id: await analysed(c, "Hunter", ["Something", "Come Together"]) }) },
  { method: "getSimilarSongs2", params: async (c) => ({ id: (await analysed(c, "Hunter", ["Something"]), c.id["The Beatles"]!) }) },
  { method: "getArtistInfo2", params: ({ id }) => ({ id: id["The Beatles"]! }) },
  { method: "getArtistInfo", params: ({ id }) => ({ id: id["The Beatles"]! }) },
  { method: "getAlbumInfo2", params: ({ id }) => ({ id: id["Abbey Road"]! }) },
  { method: "getAlbumInfo", params: ({ id }) => ({ id: id["Abbey Road"]! }) },
  { method: "search3", params: () => ({ query: "beatles" }) },
  { method: "search3", params: () => ({ query: "" }) }, // everything, as clients sync a library
  { method: "search2", params: () => ({ query: "bjork" }) },
];

/** Methods answering bytes, not an envelope: their success and their errors are checked apart. */
const BINARY: Record<string, { params: (c: ConformanceCatalog) => Params; type: RegExp }> = {
  stream: { params: ({ id }) => ({ id: id["Come Together"]! }), type: /^audio\/mpeg/ },
  download: { params: ({ id }) => ({ id: id.Hunter! }), type: /^audio\/flac/ },
  getCoverArt: { params: ({ id }) => ({ id: id["Abbey Road"]!, size: "64" }), type: /^image\/jpeg/ },
};

/** Gives the seed and the others audio features (as the analyser would), so similar songs have songs; returns the seed's id. */
async function analysed(c: ConformanceCatalog, seed: string, others: string[]): Promise<string> {
  for (const [i, title] of [seed, ...others].entries()) {
    await seedFeatures(c.app.db.pool, c.id[title]!, { tempoBpm: 90 + 10 * i, energy: 0.5, danceability: 0.5, loudnessLufs: -12 });
  }
  return c.id[seed]!;
}

async function scratchPlaylist(c: ConformanceCatalog): Promise<string> {
  return (await rest(c.app.url, "createPlaylist", { ...tokenParams(c.alice), f: "json", name: "To delete" })).json.playlist.id;
}

/** The method names of every `*Handlers` map in server/subsonic, plus the one the router answers itself. */
async function serverMethods(): Promise<string[]> {
  const dir = path.join(import.meta.dirname, "../../server/subsonic");
  const methods = ["getOpenSubsonicExtensions"];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".handlers.ts"))) {
    const module = (await import(path.join(dir, file))) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) if (name.endsWith("Handlers")) methods.push(...Object.keys(value as object));
  }
  return methods.sort();
}

describe.skipIf(!hasFfmpeg())("Subsonic conformance: every method in JSON (OpenSubsonic schemas) and XML", () => {
  let c: ConformanceCatalog;
  const auth = (who: Credentials, mode?: "apiKey") => (mode === "apiKey" ? { apiKey: who.apiKey, v: "1.16.1", c: "test" } : tokenParams(who));

  beforeAll(async () => {
    c = await conformanceCatalog();
  });
  afterAll(async () => {
    await c?.close();
  });

  it("has a case for every method the server answers", async () => {
    const covered = new Set([...CASES.map((k) => k.method), ...Object.keys(BINARY)]);
    expect((await serverMethods()).filter((m) => !covered.has(m)), "methods without a case in CASES").toEqual([]);
    expect(CASES.filter((k) => !(k.method in RESPONSES)).map((k) => k.method), "methods without a type in RESPONSES").toEqual([]);
  });

  for (const [i, k] of CASES.entries()) {
    it(`${k.method} ${k.params ? `(case ${i})` : ""}: JSON valid against the schema, XML well-formed and the same`, async () => {
      const json = await rest(c.app.url, k.method, { ...auth(c.alice, k.auth), f: "json", ...(await k.params?.(c)) });
      expect(json.status).toBe(200);
      expect(json.type).toMatch(/^application\/json; charset=utf-8/);
      expect(json.json.status, JSON.stringify(json.json.error)).toBe("ok");
      expectValidJson(k.method, json.json);

      const xml = await rest(c.app.url, `${k.method}.view`, { ...auth(c.alice, k.auth), ...(await k.params?.(c)) });
      expect(xml.type).toMatch(/^application\/xml; charset=utf-8/);
      expect(xml.text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<subsonic-response ')).toBe(true);
      expectXmlLikeJson(xml.text, json.json, k.compare ?? "values");
    });
  }

  it("answers every album list type, lists always as arrays", async () => {
    const types = ["random", "newest", "highest", "frequent", "recent", "alphabeticalByName", "alphabeticalByArtist", "starred"];
    const lists: Params[] = [...types.map((type) => ({ type })), { type: "byYear", fromYear: "2020", toYear: "1960" }, { type: "byGenre", genre: "Rock" }];
    for (const method of ["getAlbumList2", "getAlbumList"]) {
      for (const params of lists) {
        const response = await rest(c.app.url, method, { ...tokenParams(c.alice), f: "json", ...params });
        expectValidJson(method, response.json);
        const xml = parseXml((await rest(c.app.url, method, { ...tokenParams(c.alice), ...params })).text);
        expect(xml.children.map((e) => e.name)).toEqual([method === "getAlbumList2" ? "albumList2" : "albumList"]);
      }
    }
    const random = await rest(c.app.url, "getAlbumList2", { ...tokenParams(c.alice), f: "json", type: "random", size: "1" });
    expect(random.json.albumList2.album).toHaveLength(1);
  });

  it("serves bytes from the binary methods, and envelopes (JSON or XML) when they fail", async () => {
    for (const [method, { params, type }] of Object.entries(BINARY)) {
      const ok = await rest(c.app.url, method, { ...tokenParams(c.alice), ...params(c) });
      expect(ok.status, method).toBe(200);
      expect(ok.type, method).toMatch(type);
      expect(ok.bytes.length, method).toBeGreaterThan(0);
      const missing = { ...tokenParams(c.alice), id: "00000000-0000-4000-8000-000000000000" };
      const json = await rest(c.app.url, method, { ...missing, f: "json" });
      expectFailedJson(json.json, 70);
      const xml = await rest(c.app.url, method, missing);
      expect(xml.type).toMatch(/^application\/xml/);
      expectXmlLikeJson(xml.text, json.json);
    }
  });

  describe("error codes, in JSON and XML", () => {
    const base = { v: "1.16.1", c: "test" };
    const nobody = "00000000-0000-4000-8000-000000000000";
    const ERRORS: [code: number, what: string, method: string, params: () => Params][] = [
      [0, "an unknown method", "getEverything", () => tokenParams(c.alice)],
      [0, "a bad parameter value", "getAlbumList2", () => ({ ...tokenParams(c.alice), type: "loudest" })],
      [10, "a missing parameter", "getAlbum", () => tokenParams(c.alice)],
      [10, "a missing client name", "ping", () => ({ u: "alice", p: c.alice.password, v: "1.16.1" })],
      [40, "a wrong password", "ping", () => ({ ...base, u: "alice", p: "wrong" })],
      [40, "an unknown user", "ping", () => ({ ...base, u: "nobody", t: "0".repeat(32), s: "salt12" })],
      [43, "an API key with a username", "ping", () => ({ ...base, apiKey: c.alice.apiKey, u: "alice" })],
      [43, "a password and a token", "ping", () => ({ ...tokenParams(c.alice), p: c.alice.password })],
      [44, "an unknown API key", "ping", () => ({ ...base, apiKey: "pps_unknown" })],
      [50, "another user's details for a non-administrator", "getUser", () => ({ ...tokenParams(c.bob), username: "alice" })],
      [70, "an unknown album", "getAlbum", () => ({ ...tokenParams(c.alice), id: nobody })],
      [70, "an unknown playlist", "getPlaylist", () => ({ ...tokenParams(c.alice), id: nobody })],
    ];
    for (const [code, what, method, params] of ERRORS) {
      it(`${code} for ${what}`, async () => {
        const json = await rest(c.app.url, method, { ...params(), f: "json" });
        expect(json.status).toBe(200);
        expectFailedJson(json.json, code);
        const xml = await rest(c.app.url, method, params());
        expect(xml.status).toBe(200);
        const root = expectXmlLikeJson(xml.text, json.json);
        expect(root.attributes.status).toBe("failed");
        expect(root.children.map((e) => [e.name, e.attributes.code])).toEqual([["error", String(code)]]);
      });
    }

    // 41 (token auth not supported) and 42 (mechanism not supported) never apply: we keep a reversible
    // Subsonic password, so tokens work, and every mechanism (p, enc:, t+s, apiKey) is accepted.
    it("never needs 41 or 42: every authentication mechanism is supported", async () => {
      const modes = [
        tokenParams(c.alice),
        { ...base, u: "alice", p: c.alice.password },
        { ...base, u: "alice", p: `enc:${Buffer.from(c.alice.password).toString("hex")}` },
        { ...base, apiKey: c.alice.apiKey },
      ];
      for (const params of modes) {
        const json = await rest(c.app.url, "ping", { ...params, f: "json" });
        expectValidJson("ping", json.json);
        expect(parseXml((await rest(c.app.url, "ping", params)).text).attributes.status).toBe("ok");
      }
    });
  });
});
