import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { visibleLibrariesSql } from "../../core/catalog/catalog-read.ts";
import { createTestDatabase } from "../helpers/database.ts";

// What migration 0016 lets the schema hold, and what its constraints refuse.

let pool: pg.Pool;
let drop: () => Promise<void>;
let userId: string;
let localActorId: string;
let remoteActorId: string;
let remoteLibraryId: string;
beforeAll(async () => {
  const database = await createTestDatabase();
  drop = database.drop;
  pool = new pg.Pool({ connectionString: database.url, max: 2 });
  userId = randomUUID();
  localActorId = await actor({ isLocal: true, username: "alice", represents: "user" });
  remoteActorId = await actor({ isLocal: false, username: "bob" });
  await pool.query("INSERT INTO app_user (id, username, password_hash, actor_id) VALUES ($1, 'alice', 'x', $2)", [userId, localActorId]);
  remoteLibraryId = randomUUID();
  await pool.query("INSERT INTO library (id, actor_id, fid, name) VALUES ($1, $2, $3, 'Bob''s music')", [
    remoteLibraryId,
    remoteActorId,
    "https://remote.example/federation/music/libraries/1",
  ]);
});
afterAll(async () => {
  await pool.end();
  await drop();
});

async function actor(input: { isLocal: boolean; username: string; represents?: string }): Promise<string> {
  const id = randomUUID();
  const domain = input.isLocal ? "polyphony.test" : "remote.example";
  await pool.query(
    "INSERT INTO actor (id, fid, type, username, domain, is_local, represents) VALUES ($1, $2, 'Person', $3, $4, $5, $6)",
    [id, `https://${domain}/actors/${input.username}`, input.username, domain, input.isLocal, input.represents ?? null],
  );
  return id;
}

const refused = (sql: string, params: unknown[]) => expect(pool.query(sql, params)).rejects.toThrow(/violates/);

describe("remote libraries", () => {
  it("have no owner, an ActivityPub id and the remote actor publishing them; several may share that actor", async () => {
    await pool.query("INSERT INTO library (id, actor_id, fid, name) VALUES ($1, $2, $3, 'Bob''s demos')", [
      randomUUID(),
      remoteActorId,
      "https://remote.example/federation/music/libraries/2",
    ]);
    // Neither local nor remote; both; remote but shared by privacy, or with a music folder.
    await refused("INSERT INTO library (id, actor_id, name) VALUES ($1, $2, 'x')", [randomUUID(), remoteActorId]);
    await refused("INSERT INTO library (id, owner_id, actor_id, fid, name) VALUES ($1, $2, $3, 'https://r.example/l/3', 'x')", [
      randomUUID(),
      userId,
      localActorId,
    ]);
    await refused("INSERT INTO library (id, actor_id, fid, name, privacy) VALUES ($1, $2, 'https://r.example/l/4', 'x', 'public')", [
      randomUUID(),
      remoteActorId,
    ]);
    await refused("INSERT INTO library (id, actor_id, fid, name, music_folder) VALUES ($1, $2, 'https://r.example/l/5', 'x', '/music')", [
      randomUUID(),
      remoteActorId,
    ]);
  });

  it("are not visible by privacy, to anyone", async () => {
    const visible = async (viewer: string | null) =>
      (await pool.query(`SELECT l.id FROM library l WHERE ${visibleLibrariesSql("l", "$1")}`, [viewer])).rows.map((r) => r.id);
    expect(await visible(null)).not.toContain(remoteLibraryId);
    expect(await visible(userId)).not.toContain(remoteLibraryId);
  });

  it("hold remote uploads: a source URL and an id, no path; local uploads keep their path", async () => {
    const insert = (storage: string, path: string | null, sourceUrl: string | null, fid: string | null) =>
      pool.query(
        `INSERT INTO upload (id, library_id, storage, path, source_url, fid, original_name, size)
         VALUES ($1, $2, $3, $4, $5, $6, 'a.mp3', 1)`,
        [randomUUID(), remoteLibraryId, storage, path, sourceUrl, fid],
      );
    await insert("remote", null, "https://remote.example/api/v1/listen/1", "https://remote.example/federation/music/uploads/1");
    await expect(insert("remote", null, null, "https://remote.example/federation/music/uploads/2")).rejects.toThrow(/upload_location_check/);
    await expect(insert("remote", "x.mp3", "https://remote.example/l/3", "https://remote.example/u/3")).rejects.toThrow(/upload_location_check/);
    await expect(insert("stored", null, null, null)).rejects.toThrow(/upload_location_check/);
    await expect(insert("elsewhere", "x.mp3", null, null)).rejects.toThrow(/upload_storage_check/);
  });
});

describe("follows", () => {
  it("name one target, once per follower, with a state", async () => {
    const follow = (libraryId: string | null, playlistId: string | null, state = "pending") =>
      pool.query("INSERT INTO follow (id, fid, follower_id, library_id, playlist_id, state) VALUES ($1, $2, $3, $4, $5, $6)", [
        randomUUID(),
        `https://polyphony.test/follows/${randomUUID()}`,
        localActorId,
        libraryId,
        playlistId,
        state,
      ]);
    await follow(remoteLibraryId, null);
    await expect(follow(remoteLibraryId, null)).rejects.toThrow(/follow_library_id_follower_id_unique/);
    await expect(follow(null, null)).rejects.toThrow(/follow_one_target_check/);
    await expect(follow(randomUUID(), null, "maybe")).rejects.toThrow(/follow_state_check/);
  });
});

describe("actors", () => {
  it("represent something exactly when local, and there is one instance actor", async () => {
    await expect(actor({ isLocal: true, username: "nobody" })).rejects.toThrow(/actor_local_represents_check/);
    await expect(actor({ isLocal: false, username: "carol", represents: "user" })).rejects.toThrow(/actor_local_represents_check/);
    await actor({ isLocal: true, username: "instance", represents: "instance" });
    await expect(actor({ isLocal: true, username: "instance2", represents: "instance" })).rejects.toThrow(/actor_instance_unique/);
  });
});

describe("listens", () => {
  const listen = (names: { track: string; artist: string; release: string | null }, at: string, artistId: string | null = null) =>
    pool.query(
      `INSERT INTO listen (id, user_id, artist_id, listened_at, track_name, artist_name, release_name, source)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'listenbrainz') ON CONFLICT (user_id, listened_at, dedup_key) DO NOTHING`,
      [randomUUID(), userId, artistId, at, names.track, names.artist, names.release],
    );

  it("without a matched track are the same play when the same names start at the same instant", async () => {
    const at = "2025-01-02T03:04:05.678Z";
    expect((await listen({ track: "Déjà Vu", artist: "Beyoncé", release: "B'Day" }, at)).rowCount).toBe(1);
    // Case, accents and punctuation aside, the same play: kept once.
    expect((await listen({ track: "deja vu", artist: "BEYONCE", release: "BDay" }, at)).rowCount).toBe(0);
    // Another release, another instant: other plays.
    expect((await listen({ track: "Déjà Vu", artist: "Beyoncé", release: null }, at)).rowCount).toBe(1);
    expect((await listen({ track: "Déjà Vu", artist: "Beyoncé", release: "B'Day" }, "2025-01-02T03:04:06Z")).rowCount).toBe(1);
  });

  it("keep their artist link until the artist goes", async () => {
    const artistId = randomUUID();
    await pool.query("INSERT INTO artist (id, name, normalized_name) VALUES ($1, 'Air', 'air')", [artistId]);
    await listen({ track: "Sexy Boy", artist: "Air", release: "Moon Safari" }, "2025-02-01T00:00:00Z", artistId);
    await pool.query("DELETE FROM artist WHERE id = $1", [artistId]);
    const { rows } = await pool.query("SELECT artist_id, artist_name FROM listen WHERE track_name = 'Sexy Boy'");
    expect(rows).toEqual([{ artist_id: null, artist_name: "Air" }]);
  });
});
