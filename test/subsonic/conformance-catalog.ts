// One realistic small catalog for the conformance and snapshot tests, made the way a user makes it:
// tagged files uploaded and imported by the worker, then stars, ratings, plays, a playlist and a play
// queue through the Subsonic API itself.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { makeAudio, makeCoverImage, type AudioFormat, type TagValues } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForAnalyses, waitForImports } from "../helpers/imports.ts";
import { rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";

export interface ConformanceCatalog {
  app: TestApp;
  /** The first user (an administrator) owns the library; bob is a second listener who sees it. */
  alice: Credentials;
  bob: Credentials;
  /** Ids by track title, album title, artist name and playlist name. */
  id: Record<string, string>;
  close(): Promise<void>;
}

const MBID = {
  recording: "b8a4d8d7-4c5d-4d87-9a3f-3c5b2f0f6a11",
  release: "c2d5e9f8-5a6b-4e98-8b40-4d6c3a1a7b22",
  beatles: "b10bbbfc-cf9e-42e0-be17-e2c3e1d2600d",
};

const beatles: TagValues = {
  ALBUM: "Abbey Road", ALBUMARTIST: "The Beatles", ARTIST: "The Beatles", DATE: "1969", GENRE: "Rock",
  MUSICBRAINZ_ALBUMID: MBID.release, MUSICBRAINZ_ARTISTID: MBID.beatles, MUSICBRAINZ_ALBUMARTISTID: MBID.beatles,
  REPLAYGAIN_ALBUM_GAIN: "-7.25 dB", REPLAYGAIN_ALBUM_PEAK: "0.990000",
};
const bjork: TagValues = { ALBUM: "Biophilia", ALBUMARTIST: "Björk", DATE: "2011" };
const sampler: TagValues = { ALBUM: "Nouvelle Vague Sampler", COMPILATION: "1", DATE: "2004", GENRE: "Electronic" };

/** name, format, tags, cover: two albums with covers, multi-artist credits, two genres, ReplayGain, lyrics, a compilation. */
const SONGS: [string, AudioFormat, TagValues, "jpeg" | "png" | undefined][] = [
  ["abbey1", "mp3", { ...beatles, TITLE: "Come Together", TRACKNUMBER: "1", DISCNUMBER: "1", MUSICBRAINZ_TRACKID: MBID.recording,
    REPLAYGAIN_TRACK_GAIN: "-6.50 dB", REPLAYGAIN_TRACK_PEAK: "0.950000" }, "jpeg"],
  ["abbey2", "mp3", { ...beatles, TITLE: "Something", TRACKNUMBER: "2", DISCNUMBER: "1", REPLAYGAIN_TRACK_GAIN: "-5.00 dB" }, "jpeg"],
  ["bio1", "mp3", { ...bjork, TITLE: "Náttúra", TRACKNUMBER: "1", ARTIST: "Björk feat. Thom Yorke", ARTISTS: ["Björk", "Thom Yorke"],
    GENRE: ["Electronic", "Pop"] }, undefined],
  ["bio2", "flac", { ...bjork, TITLE: "Hunter", TRACKNUMBER: "2", ARTIST: "Björk", GENRE: "Electronic",
    LYRICS: "[00:01.50]If travel is searching\n[00:04.00]And home what's been found" }, undefined],
  ["nv1", "mp3", { ...sampler, TITLE: "La Femme d'Argent", TRACKNUMBER: "1", ARTIST: "Air" }, "png"],
  ["nv2", "mp3", { ...sampler, TITLE: "Around the World", TRACKNUMBER: "2", ARTIST: "Daft Punk" }, "png"],
];

export async function conformanceCatalog(): Promise<ConformanceCatalog> {
  const app = await startTestApp({ worker: true });
  const owner = new TestClient(app.url);
  const alice = await subsonicCredentials(owner, "alice");
  const bob = await subsonicCredentials(new TestClient(app.url), "bob");
  const dir = await mkdtemp(path.join(os.tmpdir(), "subsonic-conformance-"));
  const covers = { jpeg: await makeCoverImage(300, 300, "jpeg"), png: await makeCoverImage(320, 320, "png") };
  const files = await Promise.all(SONGS.map(async ([name, format, tags, cover]) => ({
    name: `${name}.${format}`,
    data: await readFile(await makeAudio(dir, { name, format, tags, ...(cover ? { cover: covers[cover] } : {}) })),
  })));
  const library = (await owner.post("/api/v1/libraries", { name: "Music", privacy: "instance" })).body.id as string;
  await owner.upload(`/api/v1/libraries/${library}/uploads`, files);
  await waitForImports(app.db.pool, library);
  // The worker measures each imported track; its album gains must not change between a JSON and an XML call.
  await waitForAnalyses(app.db.pool);
  const id: Record<string, string> = {};
  const { rows } = await app.db.pool.query("SELECT id, title AS name FROM track UNION ALL SELECT id, title FROM album UNION ALL SELECT id, name FROM artist");
  for (const row of rows) id[row.name] = row.id;

  const call = async (method: string, params: Record<string, string | string[]>) => {
    const response = await rest(app.url, method, { ...tokenParams(alice), f: "json", ...params });
    if (response.json?.status !== "ok") throw new Error(`${method}: ${JSON.stringify(response.json?.error)}`);
    return response.json;
  };
  await call("star", { id: id["Come Together"]!, albumId: id.Biophilia!, artistId: id.Air! });
  await call("setRating", { id: id.Something!, rating: "4" });
  await call("setRating", { id: id["Abbey Road"]!, rating: "5" });
  await call("scrobble", { id: id["Come Together"]!, time: String(Date.parse("2024-05-01T20:00:00Z")) });
  await call("scrobble", { id: id["Náttúra"]!, submission: "false" });
  await call("savePlayQueue", { id: [id.Something!, id.Hunter!], current: id.Hunter!, position: "1000" });
  const playlist = await call("createPlaylist", { name: "Road Trip", songId: [id["Come Together"]!, id["Náttúra"]!, id["La Femme d'Argent"]!] });
  id["Road Trip"] = playlist.playlist.id;
  await call("updatePlaylist", { playlistId: id["Road Trip"]!, comment: "For the long drive", public: "true" });

  return {
    app, alice, bob, id,
    async close() {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
