import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { musicFolderId } from "../../core/subsonic/catalog.queries.ts";
import { hasFfmpeg, makeAudio, makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";
import { rest, subsonicCredentials, tokenParams, type Credentials } from "../subsonic/helpers.ts";

// Every surface that shows, streams, counts or acts on music (REST and Subsonic), from one table: to
// anyone but its owner, a track in a private library answers exactly as a value naming nothing
// (status, headers, body), and its owner gets something else (so each row can fail). The owner/privacy
// rule itself is core/catalog/catalog-read.ts; playlists, libraries, uploads and tokens by their own
// ids are test/api/hidden-items.test.ts.

const MISSING = "00000000-0000-4000-8000-000000000000";
/** Headers that differ between any two answers, whatever they say. */
const VARYING = new Set(["date", "x-request-id", "keep-alive", "connection"]);

/** What Alice's private library holds (`hidden`) and a value of each kind that names nothing (`missing`). */
const missing = {
  track: MISSING, album: MISSING, artist: MISSING, upload: MISSING, library: MISSING, folder: "12345",
  cover: "e".repeat(64), title: "Silent Song", artistName: "Nobody Here", genre: "Nocore", query: "Zzzzzz",
};
type Kind = keyof typeof missing;

interface Viewer {
  name: string;
  web: TestClient;
  /** Absent for the anonymous visitor, whom Subsonic never serves. */
  subsonic?: Credentials;
  /** A playlist of their own to add tracks to. */
  playlist: string;
}

type Call =
  | { rest: (v: string, me: Viewer) => [method: string, url: string, json?: unknown] }
  | { subsonic: (v: string, me: Viewer) => [method: string, params: Record<string, string>] };
type Case = [surface: string, kind: Kind, call: Call];

const api = (f: (v: string, me: Viewer) => [string, string, unknown?]): Call => ({ rest: f });
const sub = (method: string, params: (v: string, me: Viewer) => Record<string, string>): Call => ({ subsonic: (v, me) => [method, params(v, me)] });

const ITEM_KINDS = ["tracks", "albums", "artists"] as const;
const cases: Case[] = [
  // REST: details, lists filtered by the hidden thing, search, bytes, and acts on it.
  ["REST track", "track", api((id) => ["GET", `/api/v1/tracks/${id}`])],
  ["REST album", "album", api((id) => ["GET", `/api/v1/albums/${id}`])],
  ["REST artist", "artist", api((id) => ["GET", `/api/v1/artists/${id}`])],
  ...ITEM_KINDS.flatMap((kind): Case[] => [
    [`REST ${kind} by library`, "library", api((id) => ["GET", `/api/v1/${kind}?library=${id}`])],
    [`REST ${kind} by genre`, "genre", api((genre) => ["GET", `/api/v1/${kind}?genre=${genre}`])],
    [`REST favourite ${kind}`, kind.slice(0, -1) as Kind, api((id) => ["PUT", `/api/v1/favorites/${kind}/${id}`])],
    [`REST unfavourite ${kind}`, kind.slice(0, -1) as Kind, api((id) => ["DELETE", `/api/v1/favorites/${kind}/${id}`])],
    [`REST rate ${kind}`, kind.slice(0, -1) as Kind, api((id) => ["PUT", `/api/v1/ratings/${kind}/${id}`, { rating: 3 }])],
    [`REST unrate ${kind}`, kind.slice(0, -1) as Kind, api((id) => ["DELETE", `/api/v1/ratings/${kind}/${id}`])],
  ]),
  ["REST tracks by artist", "artist", api((id) => ["GET", `/api/v1/tracks?artist=${id}`])],
  ["REST albums by artist", "artist", api((id) => ["GET", `/api/v1/albums?artist=${id}`])],
  ["REST search", "query", api((q) => ["GET", `/api/v1/search?q=${q}`])],
  ["REST track stream", "track", api((id) => ["GET", `/api/v1/tracks/${id}/stream`])],
  ["REST upload stream", "upload", api((id) => ["GET", `/api/v1/uploads/${id}/stream`])],
  ["REST album cover", "album", api((id) => ["GET", `/api/v1/albums/${id}/cover`])],
  ["REST cover file", "cover", api((hash) => ["GET", `/api/v1/covers/${hash}/600.jpg`])],
  ["REST play", "track", api((id) => ["POST", `/api/v1/tracks/${id}/plays`])],
  ["REST more like this", "track", api((id) => ["GET", `/api/v1/tracks/${id}/similar`])],
  ["REST playlist add", "track", api((id, me) => ["POST", `/api/v1/playlists/${me.playlist}/items`, { trackIds: [id] }])],
  // Subsonic: browsing, search, bytes, lyrics, annotations, lists, playlists and the play queue.
  ["Subsonic getSong", "track", sub("getSong", (id) => ({ id }))],
  ["Subsonic getAlbum", "album", sub("getAlbum", (id) => ({ id }))],
  ["Subsonic getArtist", "artist", sub("getArtist", (id) => ({ id }))],
  ["Subsonic getMusicDirectory album", "album", sub("getMusicDirectory", (id) => ({ id }))],
  ["Subsonic getMusicDirectory artist", "artist", sub("getMusicDirectory", (id) => ({ id }))],
  ["Subsonic getAlbumInfo", "album", sub("getAlbumInfo", (id) => ({ id }))],
  ["Subsonic getAlbumInfo2", "album", sub("getAlbumInfo2", (id) => ({ id }))],
  ["Subsonic getArtistInfo", "artist", sub("getArtistInfo", (id) => ({ id }))],
  ["Subsonic getArtistInfo2", "artist", sub("getArtistInfo2", (id) => ({ id }))],
  ["Subsonic search3", "query", sub("search3", (query) => ({ query }))],
  ["Subsonic search2", "query", sub("search2", (query) => ({ query }))],
  ["Subsonic stream", "track", sub("stream", (id) => ({ id }))],
  ["Subsonic download", "track", sub("download", (id) => ({ id }))],
  ["Subsonic getCoverArt", "album", sub("getCoverArt", (id) => ({ id }))],
  ["Subsonic getCoverArt al-", "album", sub("getCoverArt", (id) => ({ id: `al-${id}` }))],
  ["Subsonic getLyricsBySongId", "track", sub("getLyricsBySongId", (id) => ({ id }))],
  ["Subsonic getLyrics", "title", sub("getLyrics", (title) => ({ artist: "Alice Alone", title }))],
  ["Subsonic getTopSongs", "artistName", sub("getTopSongs", (artist) => ({ artist }))],
  ...(["track", "album", "artist"] as const).map((kind): Case => [`Subsonic getSimilarSongs ${kind}`, kind, sub("getSimilarSongs", (id) => ({ id }))]),
  ["Subsonic getSimilarSongs2", "artist", sub("getSimilarSongs2", (id) => ({ id }))],
  ...(["track", "album", "artist"] as const).flatMap((kind): Case[] => [
    [`Subsonic star ${kind}`, kind, sub("star", (id) => ({ id }))],
    [`Subsonic unstar ${kind}`, kind, sub("unstar", (id) => ({ id }))],
    [`Subsonic setRating ${kind}`, kind, sub("setRating", (id) => ({ id, rating: "4" }))],
  ]),
  ["Subsonic star albumId", "album", sub("star", (albumId) => ({ albumId }))],
  ["Subsonic star artistId", "artist", sub("star", (artistId) => ({ artistId }))],
  ["Subsonic scrobble", "track", sub("scrobble", (id) => ({ id }))],
  ["Subsonic scrobble now playing", "track", sub("scrobble", (id) => ({ id, submission: "false" }))],
  ["Subsonic getSongsByGenre", "genre", sub("getSongsByGenre", (genre) => ({ genre }))],
  ["Subsonic getRandomSongs by genre", "genre", sub("getRandomSongs", (genre) => ({ genre }))],
  ["Subsonic getAlbumList2 by genre", "genre", sub("getAlbumList2", (genre) => ({ type: "byGenre", genre }))],
  ...["getIndexes", "getArtists", "getAlbumList2", "getRandomSongs"].map((method): Case =>
    [`Subsonic ${method} by folder`, "folder", sub(method, (musicFolderId) => ({ musicFolderId, type: "newest" }))]),
  ["Subsonic createPlaylist", "track", sub("createPlaylist", (songId) => ({ name: "Taken", songId }))],
  ["Subsonic createPlaylist onto own", "track", sub("createPlaylist", (songId, me) => ({ playlistId: me.playlist, songId }))],
  ["Subsonic updatePlaylist add", "track", sub("updatePlaylist", (songIdToAdd, me) => ({ playlistId: me.playlist, songIdToAdd }))],
  ["Subsonic savePlayQueue", "track", sub("savePlayQueue", (id) => ({ id, current: id }))],
];

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

describe.skipIf(!hasFfmpeg())("a track in another user's private library, through every surface", () => {
  let app: TestApp;
  let dir: string;
  let alice: Viewer;
  let bob: Viewer;
  let anonymous: Viewer;
  const hidden: Record<Kind, string> = {
    track: "", album: "", artist: "", upload: "", library: "", folder: "", cover: "",
    title: "Secret Song", artistName: "Alice Alone", genre: "Diarycore", query: "Secret",
  };

  /** The answer to one call, `value` written as `as` in its body (an answer naming what was asked compares equal). */
  async function answer(me: Viewer, call: Call, value: string, as: string): Promise<Answer> {
    let status: number;
    let rawHeaders: Headers;
    let text: string;
    if ("rest" in call) {
      const [method, url, json] = call.rest(value, me);
      const response = await me.web.request(method, url, json === undefined ? {} : { json });
      [status, rawHeaders, text] = [response.status, response.headers, typeof response.body === "string" ? response.body : JSON.stringify(response.body)];
    } else {
      const [method, params] = call.subsonic(value, me);
      const response = await rest(app.url, method, { ...tokenParams(me.subsonic!), f: "json", ...params });
      [status, rawHeaders, text] = [response.status, response.headers, response.text];
    }
    // Express's ETag is a hash of the body, which is compared itself (and may name the value).
    const headers = Object.fromEntries([...rawHeaders].filter(([name]) => !VARYING.has(name))
      .map(([name, header]) => [name, name === "etag" ? "(hash of the body)" : header]));
    return { status, headers, body: text.replaceAll(value, as) };
  }

  const count = async (table: string) => (await app.db.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    await new TestClient(app.url).signup("olga"); // the first account: an administrator
    const viewer = async (name: string): Promise<Viewer> => {
      const web = new TestClient(app.url);
      const subsonic = await subsonicCredentials(web, name);
      return { name, web, subsonic, playlist: (await web.post("/api/v1/playlists", { name: `${name}'s mix` })).body.id };
    };
    alice = await viewer("alice");
    bob = await viewer("bob");
    anonymous = { name: "anonymous", web: new TestClient(app.url), playlist: MISSING };
    hidden.library = (await alice.web.post("/api/v1/libraries", { name: "Diary", privacy: "private" })).body.id;
    hidden.folder = String(musicFolderId(hidden.library));
    dir = await mkdtemp(path.join(os.tmpdir(), "visibility-"));
    const file = await makeAudio(dir, { name: "secret", format: "mp3", cover: await makeCoverImage(120, 120, "jpeg"),
      tags: { TITLE: hidden.title, ARTIST: hidden.artistName, ALBUM: "Private Album", GENRE: hidden.genre, LYRICS: "Dear diary" } });
    await alice.web.upload(`/api/v1/libraries/${hidden.library}/uploads`, [{ name: "secret.mp3", data: await readFile(file) }]);
    await waitForImports(app.db.pool, hidden.library);
    const { rows } = await app.db.pool.query(
      `SELECT t.id AS track, t.album_id AS album, a.album_artist_id AS artist, u.id AS upload, a.cover_hash AS cover
       FROM upload u JOIN track t ON t.id = u.track_id JOIN album a ON a.id = t.album_id`);
    expect(rows).toHaveLength(1);
    Object.assign(hidden, rows[0]);
    expect(hidden.cover).toMatch(/^[0-9a-f]{64}$/);
  });
  afterAll(async () => {
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("answers others exactly as for a value naming nothing, and changes nothing", async () => {
    for (const me of [bob, anonymous]) {
      for (const [surface, kind, call] of cases) {
        if ("subsonic" in call && !me.subsonic) continue;
        const label = `${me.name}: ${surface}`;
        const seen = await answer(me, call, hidden[kind], missing[kind]);
        expect(seen, label).toEqual(await answer(me, call, missing[kind], missing[kind]));
      }
    }
    for (const table of ["favorite", "rating", "listen", "now_playing", "play_queue", "playlist_item"]) expect(await count(table), table).toBe(0);
    expect(await count("playlist"), "playlists").toBe(2); // Alice's and Bob's own, none made by the calls
  });

  it("answers its owner with the track (so each row above could fail)", async () => {
    for (const [surface, kind, call] of cases) {
      const seen = await answer(alice, call, hidden[kind], missing[kind]);
      expect(seen, `alice: ${surface}`).not.toEqual(await answer(alice, call, missing[kind], missing[kind]));
    }
  });
});
