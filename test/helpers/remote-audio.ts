// A remote library followed by a local user, its uploads pointing at a stand-in server that serves (or
// refuses) their audio and checks each request's signature against the keys in our database.
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { verifySignature } from "../../core/fediverse/http-signatures.ts";
import type { TestApp } from "./app.ts";
import { seedTrack, type TrackSeed } from "./factories.ts";

/** How the stand-in answers one audio path. */
export type AudioMode =
  | { kind: "ok"; data: Buffer; type?: string; chunkDelayMs?: number; chunkBytes?: number; omitLength?: boolean }
  /** Announces the whole length, sends `bytes`, then cuts the connection. */
  | { kind: "cut"; data: Buffer; bytes: number }
  | { kind: "status"; status: number }
  /** Accepts the request and never answers. */
  | { kind: "silent" };

export interface AudioHit {
  path: string;
  /** The key id of a signature that verified with the listener's key from our database; null otherwise. */
  signedBy: string | null;
  reason: string | null;
  range: string | undefined;
}

export interface AudioRemote {
  origin: string;
  hits: AudioHit[];
  modes: Map<string, AudioMode>;
  hitsOf(audioPath: string): AudioHit[];
  close(): Promise<void>;
}

/** The stand-in server; `publicKeyOf` finds a key id's public key (our users' actors, in our database). */
export async function startAudioRemote(publicKeyOf: (keyId: string) => Promise<JsonWebKey | null>): Promise<AudioRemote> {
  const hits: AudioHit[] = [];
  const modes = new Map<string, AudioMode>();
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, `http://${req.headers.host}`);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : value]));
    const verified = await verifySignature({ method: req.method!, url, headers }, publicKeyOf);
    hits.push({ path: url.pathname, signedBy: verified.ok ? verified.keyId : null, reason: verified.ok ? null : verified.reason, range: req.headers.range });
    const mode = modes.get(url.pathname);
    if (!mode) return res.writeHead(404).end();
    if (!verified.ok) return res.writeHead(401).end();
    if (mode.kind === "status") return res.writeHead(mode.status, { "content-type": "text/plain" }).end("no");
    if (mode.kind === "silent") return; // the socket stays open until the client gives up
    if (mode.kind === "cut") {
      res.writeHead(200, { "content-type": "audio/mpeg", "content-length": String(mode.data.length) });
      res.write(mode.data.subarray(0, mode.bytes), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    res.writeHead(200, { "content-type": mode.type ?? "audio/mpeg", ...(mode.omitLength ? {} : { "content-length": String(mode.data.length) }) });
    const step = mode.chunkBytes ?? mode.data.length;
    for (let at = 0; at < mode.data.length; at += step) {
      if (at > 0 && mode.chunkDelayMs) await new Promise((resolve) => setTimeout(resolve, mode.chunkDelayMs));
      if (res.destroyed) return;
      res.write(mode.data.subarray(at, at + step));
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    hits,
    modes,
    hitsOf: (audioPath) => hits.filter((h) => h.path === audioPath),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Public keys of our own actors, by key id (`<actor fid>#main-key`), read from the database. */
export function localPublicKeys(app: TestApp): (keyId: string) => Promise<JsonWebKey | null> {
  return async (keyId) => {
    const { rows } = await app.db.pool.query("SELECT rsa_public_jwk FROM actor WHERE fid = $1 AND is_local", [keyId.replace(/#main-key$/, "")]);
    return (rows[0]?.rsa_public_jwk as JsonWebKey | undefined) ?? null;
  };
}

/**
 * A remote library (its actor, its fid on `origin`) that `followers` (usernames) follow with accepted
 * follows. Returns the library's id.
 */
export async function followedRemoteLibrary(app: TestApp, origin: string, followers: string[]): Promise<string> {
  const pool = app.db.pool;
  const actorId = randomUUID();
  const libraryId = randomUUID();
  const host = new URL(origin).host;
  await pool.query("INSERT INTO actor (id, fid, type, username, domain, is_local) VALUES ($1, $2, 'Application', $3, $4, false)", [
    actorId,
    `${origin}/actors/lib-${libraryId}`,
    `lib-${libraryId}`,
    host,
  ]);
  await pool.query("INSERT INTO library (id, actor_id, fid, name) VALUES ($1, $2, $3, 'Remote music')", [libraryId, actorId, `${origin}/federation/libraries/${libraryId}`]);
  for (const username of followers) {
    await pool.query(
      `INSERT INTO follow (id, fid, follower_id, library_id, state)
       SELECT $1, $2, actor_id, $3, 'accepted' FROM app_user WHERE username = $4`,
      [randomUUID(), `${origin}/follows/${randomUUID()}`, libraryId, username],
    );
  }
  return libraryId;
}

/**
 * A finished remote upload of the library whose audio is at `origin` + `audioPath`: seeded into `seedLibrary`
 * (a local library), then moved to the remote library as a scan would have stored it (its local file gone).
 */
export async function remoteTrack(
  app: TestApp,
  seedLibrary: string,
  remoteLibrary: string,
  origin: string,
  audioPath: string,
  seed: TrackSeed,
): Promise<{ uploadId: string; trackId: string }> {
  const seeded = await seedTrack(app, seedLibrary, seed);
  const { rows } = await app.db.pool.query(
    `UPDATE upload u SET storage = 'remote', path = NULL, source_url = $2, fid = $3, library_id = $4
     FROM (SELECT path FROM upload WHERE id = $1) old WHERE u.id = $1 RETURNING old.path`,
    [seeded.uploadId, `${origin}${audioPath}`, `${origin}/federation/uploads/${seeded.uploadId}`, remoteLibrary],
  );
  await rm(path.join(app.config.mediaDir, rows[0].path as string), { force: true });
  return seeded;
}
