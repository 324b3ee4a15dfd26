import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { rest, subsonicCredentials, tokenParams, type Credentials } from "./helpers.ts";

describe("Subsonic users, scans and lyrics", () => {
  let app: TestApp;
  let admin: Credentials;
  let bob: Credentials;
  let music: string;
  const id: Record<string, string> = {};
  const as = (who: Credentials, method: string, params: Record<string, string> = {}) =>
    rest(app.url, method, { ...tokenParams(who), f: "json", ...params });

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    const client = new TestClient(app.url);
    admin = await subsonicCredentials(client, "curator");
    bob = await subsonicCredentials(new TestClient(app.url), "bob");
    music = await mkdtemp(path.join(os.tmpdir(), "subsonic-scan-"));
    const lib = (await client.post("/api/v1/libraries", { name: "Main", privacy: "instance" })).body.id;
    await seedTracks(app, lib, [
      { name: "sync", tags: { TITLE: "Timed", ARTIST: "Singer", LYRICS: "[00:01.50]First line\n[00:03.00]Second line" } },
      { name: "plain", tags: { TITLE: "Plain", ARTIST: "Singer", LYRICS: "Just words\nMore words" } },
      { name: "none", tags: { TITLE: "Instrumental", ARTIST: "Singer" } },
    ]);
    for (const r of (await app.db.pool.query("SELECT id, title FROM track")).rows) id[r.title] = r.id;
    await client.post("/api/v1/libraries", { name: "Folder", musicFolder: music });
  });
  afterAll(async () => {
    await app?.close();
    await rm(music, { recursive: true, force: true });
  });

  it("returns a user's roles and folders to themselves and to admins only", async () => {
    const me = (await as(bob, "getUser", { username: "bob" })).json.user;
    expect(me).toMatchObject({ username: "bob", adminRole: false, streamRole: true, downloadRole: true, scrobblingEnabled: true });
    expect(me.folder).toHaveLength(1);
    expect(typeof me.folder[0]).toBe("number");
    expect((await as(bob, "getUser", { username: "curator" })).json.error.code).toBe(50);
    expect((await as(admin, "getUser", { username: "bob" })).json.user.username).toBe("bob");
    expect((await as(admin, "getUser", { username: "nobody" })).json.error.code).toBe(70);
    const xml = await rest(app.url, "getUser", { ...tokenParams(bob), username: "bob" });
    expect(xml.text).toMatch(/<user [^>]*username="bob"[^>]*><folder>\d+<\/folder><\/user>/);
  });

  it("reports and starts scans", async () => {
    const status = (await as(bob, "getScanStatus")).json.scanStatus;
    expect(status.count).toBe(3);
    expect(typeof status.scanning).toBe("boolean");
    const started = (await as(admin, "startScan")).json.scanStatus;
    expect(started.scanning).toBe(true);
  });

  it("serves structured lyrics: timed lines from LRC, plain lines otherwise, none as an empty list", async () => {
    const timed = (await as(bob, "getLyricsBySongId", { id: id.Timed! })).json.lyricsList.structuredLyrics;
    expect(timed).toEqual([{ displayArtist: "Singer", displayTitle: "Timed", lang: "xxx", synced: true,
      line: [{ start: 1500, value: "First line" }, { start: 3000, value: "Second line" }] }]);
    const plain = (await as(bob, "getLyricsBySongId", { id: id.Plain! })).json.lyricsList.structuredLyrics;
    expect(plain[0]).toMatchObject({ synced: false, line: [{ value: "Just words" }, { value: "More words" }] });
    expect((await as(bob, "getLyricsBySongId", { id: id.Instrumental! })).json.lyricsList).toEqual({ structuredLyrics: [] });
    expect((await as(bob, "getLyricsBySongId", { id: "00000000-0000-4000-8000-000000000000" })).json.error.code).toBe(70);
  });

  it("answers the legacy getLyrics by artist and title", async () => {
    const found = (await as(bob, "getLyrics", { artist: "singer", title: "TIMED" })).json.lyrics;
    expect(found).toEqual({ artist: "singer", title: "TIMED", value: "First line\nSecond line" });
    expect((await as(bob, "getLyrics", { artist: "Singer", title: "Unknown" })).json.lyrics).toEqual({ artist: "Singer", title: "Unknown" });
    expect((await as(bob, "getNowPlaying")).json.nowPlaying).toEqual({ entry: [] });
  });
});
