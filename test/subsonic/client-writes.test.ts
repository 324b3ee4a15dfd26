import type SubsonicAPI from "subsonic-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg } from "../fixtures/audio.ts";
import { failure, openClientSession, titles } from "./client-session.ts";
import type { ConformanceCatalog } from "./conformance-catalog.ts";

// Changing things through `subsonic-api`, an independent client from npm: stars, ratings, plays, now
// playing, the play queue, playlists and scans, each read back through the client. Bob (a listener,
// by API key) starts with none of these, so what he reads is what he just did; Alice (administrator)
// uses a salted token. The reads are in client.test.ts.

/** The methods this file must call through the client (with client.test.ts: every method the server answers). */
const METHODS = [
  "star", "unstar", "getStarred", "getStarred2", "setRating", "scrobble", "getNowPlaying", "savePlayQueue", "getPlayQueue",
  "createPlaylist", "updatePlaylist", "deletePlaylist", "getPlaylists", "getPlaylist", "startScan", "getScanStatus",
];

describe.skipIf(!hasFfmpeg())("Subsonic through the subsonic-api client: writing", () => {
  let c: ConformanceCatalog;
  let alice: SubsonicAPI;
  let bob: SubsonicAPI;
  let called: Set<string>;

  beforeAll(async () => {
    ({ c, alice, bob, called } = await openClientSession());
  });
  afterAll(async () => {
    await c?.close();
  });

  it("stars a song, an album and an artist, which getStarred2 and getStarred then list, until unstarred", async () => {
    expect((await bob.getStarred2()).starred2).toEqual({ artist: [], album: [], song: [] });
    const target = { id: c.id.Hunter!, albumId: c.id["Abbey Road"]!, artistId: c.id["Björk"]! };
    expect((await bob.star(target)).status).toBe("ok");
    const starred2 = (await bob.getStarred2()).starred2;
    expect([titles(starred2.song), titles(starred2.album), titles(starred2.artist)]).toEqual([["Hunter"], ["Abbey Road"], ["Björk"]]);
    expect(starred2.song![0]!.starred).toBeInstanceOf(Date); // the client revives the ISO date
    const starred = (await bob.getStarred()).starred;
    expect([titles(starred.song), titles(starred.album), titles(starred.artist)]).toEqual([["Hunter"], ["Abbey Road"], ["Björk"]]);
    expect((await bob.getSong({ id: c.id.Hunter! })).song.starred).toBeInstanceOf(Date);
    // Alice's stars (from the catalog) are hers alone.
    expect(titles((await alice.getStarred2()).starred2.song)).toEqual(["Come Together"]);

    expect((await bob.unstar({ id: [c.id.Hunter!], albumId: c.id["Abbey Road"]!, artistId: c.id["Björk"]! })).status).toBe("ok");
    expect((await bob.getStarred2()).starred2).toEqual({ artist: [], album: [], song: [] });
    expect((await bob.getSong({ id: c.id.Hunter! })).song.starred).toBeUndefined();
  });

  it("rates an album and a song, read back in getAlbum and getSong; 0 removes the rating", async () => {
    expect((await bob.setRating({ id: c.id.Biophilia!, rating: 3 })).status).toBe("ok");
    expect((await bob.setRating({ id: c.id.Hunter!, rating: 2 })).status).toBe("ok");
    const album = (await bob.getAlbum({ id: c.id.Biophilia! })).album;
    expect([album.userRating, album.song?.find((s) => s.title === "Hunter")?.userRating]).toEqual([3, 2]);
    expect((await bob.getSong({ id: c.id.Hunter! })).song.userRating).toBe(2);
    expect((await alice.getAlbum({ id: c.id.Biophilia! })).album.userRating ?? 0).toBe(0); // ratings are per user
    expect(titles((await bob.getAlbumList2({ type: "highest" })).albumList2.album)[0]).toBe("Biophilia");
    await bob.setRating({ id: c.id.Hunter!, rating: 0 });
    expect((await bob.getSong({ id: c.id.Hunter! })).song.userRating).toBeUndefined();
    expect(await failure(bob.setRating({ id: c.id.Hunter!, rating: 9 as 5 }))).toBe(0);
  });

  it("counts a submitted scrobble as a play and shows a playing one in getNowPlaying", async () => {
    const plays = async () => (await bob.getSong({ id: c.id["Around the World"]! })).song.playCount ?? 0;
    const before = await plays();
    expect((await bob.scrobble({ id: c.id["Around the World"]!, time: Date.parse("2025-01-02T03:04:05Z") })).status).toBe("ok");
    expect(await plays()).toBe(before + 1);
    expect((await bob.getAlbum({ id: c.id["Nouvelle Vague Sampler"]! })).album.playCount).toBeGreaterThanOrEqual(1);
    expect(titles((await bob.getAlbumList2({ type: "frequent" })).albumList2.album)).toEqual(["Nouvelle Vague Sampler"]);
    expect(titles((await bob.getAlbumList({ type: "recent" })).albumList.album)).toEqual(["Nouvelle Vague Sampler"]);

    // submission=false: playing now, not a play.
    expect((await bob.scrobble({ id: c.id["La Femme d'Argent"]!, submission: false })).status).toBe("ok");
    expect((await bob.getSong({ id: c.id["La Femme d'Argent"]! })).song.playCount ?? 0).toBe(0);
    // Bob's listens are private (the default): Alice does not see what he plays; shared, she does.
    const bobPlaying = async () => ((await alice.getNowPlaying()).nowPlaying.entry ?? []).find((e) => e.username === "bob")?.title;
    expect(await bobPlaying()).toBeUndefined();
    expect(((await bob.getNowPlaying()).nowPlaying.entry ?? []).map((e) => e.title)).toContain("La Femme d'Argent");
    await c.app.db.pool.query("UPDATE app_user SET listen_privacy = 'instance' WHERE username = 'bob'");
    expect(await bobPlaying()).toBe("La Femme d'Argent");
  });

  it("saves and reads back a play queue", async () => {
    const songs = [c.id.Hunter!, c.id["Come Together"]!, c.id.Hunter!];
    expect((await bob.savePlayQueue({ id: songs, current: c.id["Come Together"]!, position: 4321 })).status).toBe("ok");
    const queue = (await bob.getPlayQueue()).playQueue!;
    expect(queue.entry?.map((e) => e.id)).toEqual(songs);
    expect(titles(queue.entry)).toEqual(["Hunter", "Come Together", "Hunter"]);
    expect([queue.current, queue.position, queue.username]).toEqual([c.id["Come Together"], 4321, "bob"]);
    expect(queue.changedBy).toBe("subsonic-api"); // the client's name (c)
    // Each user has their own queue: Alice's is still the one the catalog saved.
    expect((await alice.getPlayQueue()).playQueue?.entry?.map((e) => e.title)).toEqual(["Something", "Hunter"]);
    expect((await bob.savePlayQueue({ position: 0 })).status).toBe("ok");
    expect((await bob.getPlayQueue()).playQueue?.entry ?? []).toEqual([]);
  });

  it("creates, edits, lists and deletes a playlist", async () => {
    const created = (await bob.createPlaylist({ name: "Bob's mix", songId: [c.id.Hunter!, c.id.Something!] })).playlist;
    expect([created.name, created.owner, created.songCount, created.public]).toEqual(["Bob's mix", "bob", 2, false]);
    expect(titles(created.entry)).toEqual(["Hunter", "Something"]);

    const update = { playlistId: created.id, name: "Bob's road mix", comment: "Loud", public: true };
    expect((await bob.updatePlaylist({ ...update, songIndexToRemove: [0], songIdToAdd: [c.id["La Femme d'Argent"]!] })).status).toBe("ok");
    const edited = (await alice.getPlaylist({ id: created.id })).playlist; // public now: Alice sees it
    expect([edited.name, edited.comment, edited.public, edited.songCount]).toEqual(["Bob's road mix", "Loud", true, 2]);
    expect(titles(edited.entry)).toEqual(["Something", "La Femme d'Argent"]);
    expect(edited.duration).toBeGreaterThan(0);

    // createPlaylist with playlistId replaces the songs.
    const replaced = (await bob.createPlaylist({ playlistId: created.id, songId: [c.id["Around the World"]!] })).playlist;
    expect(titles(replaced.entry)).toEqual(["Around the World"]);

    const listed = (await bob.getPlaylists()).playlists.playlist ?? [];
    expect(listed.map((p) => [p.name, p.owner]).sort()).toEqual([["Bob's road mix", "bob"], ["Road Trip", "alice"]]);
    expect((await bob.deletePlaylist({ id: created.id })).status).toBe("ok");
    expect(await failure(bob.getPlaylist({ id: created.id }))).toBe(70);
    expect(titles((await bob.getPlaylists()).playlists.playlist)).toEqual(["Road Trip"]);
  });

  it("keeps a private playlist from everyone else (70) and another's public one read-only", async () => {
    const secret = (await alice.createPlaylist({ name: "Secret", songId: [c.id.Something!] })).playlist;
    expect(await failure(bob.getPlaylist({ id: secret.id }))).toBe(70);
    expect(await failure(bob.updatePlaylist({ playlistId: secret.id, name: "Mine" }))).toBe(70);
    expect(await failure(bob.deletePlaylist({ id: secret.id }))).toBe(70);
    expect(titles((await bob.getPlaylists()).playlists.playlist)).not.toContain("Secret");
    // Road Trip is public: Bob reads it but may not change it (50, not authorised).
    expect(titles((await bob.getPlaylist({ id: c.id["Road Trip"]! })).playlist.entry)).toHaveLength(3);
    expect(await failure(bob.updatePlaylist({ playlistId: c.id["Road Trip"]!, name: "Bob's now" }))).toBe(50);
    expect(await failure(bob.createPlaylist({ playlistId: c.id["Road Trip"]!, songId: [c.id.Something!] }))).toBe(50);
    expect(await failure(bob.deletePlaylist({ id: c.id["Road Trip"]! }))).toBe(50);
    expect((await alice.getPlaylist({ id: c.id["Road Trip"]! })).playlist.name).toBe("Road Trip");
  });

  it("starts a scan and reports its status", async () => {
    // The catalog was uploaded, so no library has a music folder to rescan: the scan is done at once.
    const started = (await alice.startScan()).scanStatus;
    expect([started.scanning, started.count]).toEqual([false, 6]);
    expect((await bob.startScan()).scanStatus.count).toBe(6);
    expect((await alice.getScanStatus()).scanStatus.scanning).toBe(false);
  });

  it("refuses changes to unknown ids (70) and without their parameter (10)", async () => {
    const nobody = "00000000-0000-4000-8000-000000000000";
    expect(await failure(bob.star({ id: nobody }))).toBe(70);
    expect(await failure(bob.setRating({ id: nobody, rating: 1 }))).toBe(70);
    expect(await failure(bob.scrobble({ id: nobody }))).toBe(70);
    expect(await failure(bob.deletePlaylist({ id: nobody }))).toBe(70);
    expect(await failure(bob.createPlaylist({}))).toBe(10);
    expect(await failure(bob.setRating({ id: c.id.Hunter! } as { id: string; rating: 1 }))).toBe(10);
  });

  // Last, so it sees the calls of the tests above (vitest runs a file's tests in order).
  it("called each of its methods through the client", () => {
    expect(METHODS.filter((m) => !called.has(m))).toEqual([]);
  });
});
