import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { signatureHeaders, type SigningKey } from "../../core/fediverse/http-signatures.ts";
import { makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks, type SeededTrack } from "../helpers/factories.ts";
import { startRemoteActorServer, type RemoteActorServer } from "../helpers/remote-actor-server.ts";

// What a follower server reads from us (authorized fetch): the pages, Audio objects and media of a
// private or instance library answer only GETs signed by an actor whose follow was accepted; a public
// library's answer everyone; anything else is a 404 as for something missing, and a signature that
// does not verify is a 401 with its reason.

const AP = "application/activity+json";
const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";
let app: TestApp;
let remote: RemoteActorServer;
let owner: TestClient;
const libraries: Record<"secret" | "club" | "open", { id: string; actorId: string; track: SeededTrack; bytes: Buffer }> = {} as never;

type Signer = SigningKey | { headers: Record<string, string> } | null;

/** A GET of one of our URLs (path and query), signed as `signer` when given. */
async function get(path: string, signer: Signer, headers: Record<string, string> = {}) {
  const url = new URL(path, TEST_ORIGIN);
  const signature = signer === null ? {} : "headers" in signer ? signer.headers : signatureHeaders("GET", url, signer);
  const res = await fetch(new URL(path, app.url), { headers: { accept: AP, ...signature, ...headers } });
  const bytes = Buffer.from(await res.arrayBuffer());
  const type = res.headers.get("content-type") ?? "";
  return { status: res.status, headers: res.headers, bytes, json: /json/.test(type) ? JSON.parse(bytes.toString()) : undefined };
}

const paths = (name: keyof typeof libraries) => {
  const { id, track } = libraries[name];
  return {
    page: `/federation/libraries/${id}?page=1`,
    audio: `/federation/uploads/${track.uploadId}`,
    media: `/federation/media/${track.uploadId}`,
    track: `/federation/tracks/${track.trackId}`,
  };
};

async function follow(name: string, library: string, state: "pending" | "accepted" | "rejected") {
  const actor = await app.deps.remoteActors.resolve(remote.actorId(name));
  await app.db.pool.query(
    `INSERT INTO follow (id, fid, follower_id, library_id, state) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (library_id, follower_id) DO UPDATE SET state = EXCLUDED.state`,
    [randomUUID(), `${actor.fid}#follows/${randomUUID()}`, actor.id, library, state],
  );
}

beforeAll(async () => {
  remote = await startRemoteActorServer();
  app = await startTestApp({ env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
  owner = new TestClient(app.url);
  await owner.signup("owner");
  const cover = await makeCoverImage(64, 64, "jpeg");
  for (const [name, privacy] of [["secret", "private"], ["club", "instance"], ["open", "public"]] as const) {
    const library = (await owner.post("/api/v1/libraries", { name, privacy })).body;
    const bytes = randomBytes(40_000);
    const tags = { TITLE: `${name} song`, ARTIST: `${name} band`, ALBUMARTIST: `${name} band`, ALBUM: `${name} album`, TRACKNUMBER: "1" };
    const [track] = await seedTracks(app, library.id, [{ tags, data: bytes, cover: name === "secret" ? cover : undefined }]);
    libraries[name] = { id: library.id, actorId: library.actorId, track: track!, bytes };
  }
  await follow("fan", libraries.secret.id, "accepted");
  await follow("fan", libraries.club.id, "accepted");
  await follow("waiting", libraries.secret.id, "pending");
  await follow("refused", libraries.secret.id, "rejected");
});
afterAll(async () => {
  await app?.close();
  await remote?.close();
});

describe("a private library", () => {
  it("still tells anyone what it is (no audience), but nothing of what it holds", async () => {
    const root = await get(`/federation/libraries/${libraries.secret.id}`, null);
    expect(root.status).toBe(200);
    expect(root.json).toMatchObject({ type: "Library", totalItems: 1, audience: "" });
    for (const path of Object.values(paths("secret"))) {
      const res = await get(path, null);
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.json).toEqual({ error: { code: "not_found", message: expect.any(String) } });
    }
  });

  it("answers a pending, a rejected or no follow as if it were missing", async () => {
    for (const name of ["waiting", "refused", "stranger"]) {
      for (const path of Object.values(paths("secret"))) {
        const res = await get(path, remote.key(name));
        expect([name, path, res.status]).toEqual([name, path, 404]);
      }
    }
  });

  it("serves its accepted follower the pages, the Audio and the whole file", async () => {
    const fan = remote.key("fan");
    const page = await get(paths("secret").page, fan);
    expect(page.status).toBe(200);
    expect(page.json).toMatchObject({ type: "CollectionPage", totalItems: 1 });
    const item = page.json.items[0];
    expect(item).toMatchObject({ type: "Audio", to: "", url: [{ href: `${TEST_ORIGIN}${paths("secret").media}`, mediaType: "audio/mpeg" }] });

    const audio = await get(paths("secret").audio, fan);
    expect(audio.status).toBe(200);
    expect(audio.headers.get("content-type")).toMatch(/^application\/activity\+json/);
    const { "@context": context, ...shape } = audio.json;
    expect(context).toContain("https://funkwhale.audio/ns");
    expect(shape).toEqual(item);

    // Funkwhale's fetch: one signed GET, no Range, no Accept.
    const media = await get(paths("secret").media, fan, { accept: "" });
    expect(media.status).toBe(200);
    expect(media.headers.get("content-type")).toBe("audio/mpeg");
    expect(media.headers.get("content-length")).toBe(String(libraries.secret.bytes.length));
    expect(media.bytes.equals(libraries.secret.bytes)).toBe(true);
    const range = await get(paths("secret").media, fan, { range: "bytes=100-199" });
    expect(range.status).toBe(206);
    expect(range.headers.get("content-range")).toBe(`bytes 100-199/${libraries.secret.bytes.length}`);
    expect(range.bytes.equals(libraries.secret.bytes.subarray(100, 200))).toBe(true);

    const cover = await get(new URL(item.track.album.image.url).pathname, fan);
    expect(cover.status).toBe(200);
    expect(cover.headers.get("content-type")).toBe("image/jpeg");
    expect((await get(new URL(item.track.album.image.url).pathname, null)).status).toBe(404);
  });

  it("serves its follower the Track, Album and Artist documents, and no one else", async () => {
    const fan = remote.key("fan");
    const item = (await get(paths("secret").page, fan)).json.items[0];
    const docs = [item.track, item.track.album, item.track.artists[0]];
    for (const doc of docs) {
      const path = new URL(doc.id).pathname;
      const res = await get(path, fan);
      expect([path, res.status]).toEqual([path, 200]);
      const { "@context": context, ...shape } = res.json;
      expect(context).toContain("https://funkwhale.audio/ns");
      expect(shape).toEqual(doc);
      expect((await get(path, null)).status).toBe(404);
      expect((await get(path, remote.key("waiting"))).status).toBe(404);
    }
  });

  it("closes again when the follow is revoked", async () => {
    await follow("fan", libraries.secret.id, "rejected");
    try {
      for (const path of Object.values(paths("secret"))) expect((await get(path, remote.key("fan"))).status).toBe(404);
    } finally {
      await follow("fan", libraries.secret.id, "accepted");
    }
    expect((await get(paths("secret").media, remote.key("fan"))).status).toBe(200);
  });
});

describe("signatures that do not verify", () => {
  const expectRefused = async (signer: Signer, reason: RegExp) => {
    for (const path of [paths("secret").media, paths("open").page, `/federation/libraries/${libraries.open.id}`]) {
      const res = await get(path, signer);
      expect([path, res.status]).toEqual([path, 401]);
      expect(res.json.error).toMatchObject({ code: "unauthenticated", message: expect.stringMatching(reason) });
    }
  };

  it("refuse a forged signature, even where unsigned requests are served", async () => {
    const url = new URL(paths("secret").media, TEST_ORIGIN);
    const genuine = signatureHeaders("GET", url, remote.key("fan"));
    const forged = genuine.signature!.replace(/signature="[^"]+"/, `signature="${randomBytes(256).toString("base64")}"`);
    await expectRefused({ headers: { ...genuine, signature: forged } }, /signature does not match/);
  });

  it("refuse a signature made with another key than the actor's", async () => {
    await expectRefused({ keyId: remote.key("fan").keyId, privateJwk: remote.key("stranger").privateJwk }, /does not match/);
  });

  it("refuse a signature of another URL (the query is signed)", async () => {
    const other = signatureHeaders("GET", new URL(`${paths("secret").page.replace("page=1", "page=2")}`, TEST_ORIGIN), remote.key("fan"));
    const res = await get(paths("secret").page, { headers: other });
    expect(res.status).toBe(401);
  });

  it("refuse a stale Date", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() - 3600_000);
    const stale = (path: string) => signatureHeaders("GET", new URL(path, TEST_ORIGIN), remote.key("fan"));
    const headers = Object.fromEntries([paths("secret").media, paths("open").page].map((p) => [p, stale(p)]));
    vi.useRealTimers();
    for (const [path, signed] of Object.entries(headers)) {
      const res = await get(path, { headers: signed });
      expect(res.status).toBe(401);
      expect(res.json.error.message).toMatch(/Date/);
    }
  });

  it("refuse a key whose actor cannot be read", async () => {
    const ghost = { keyId: `${remote.origin}/nobody-here#main-key`, privateJwk: remote.key("fan").privateJwk };
    await expectRefused(ghost, /unknown key/);
  });
});

describe("an instance library", () => {
  it("is for its accepted followers only, like a private one", async () => {
    for (const path of Object.values(paths("club"))) {
      expect([path, (await get(path, null)).status]).toEqual([path, 404]);
      expect([path, (await get(path, remote.key("stranger"))).status]).toEqual([path, 404]);
      expect([path, (await get(path, remote.key("fan"))).status]).toEqual([path, 200]);
    }
  });
});

describe("a public library", () => {
  it("answers everyone, unsigned or signed", async () => {
    for (const signer of [null, remote.key("stranger")]) {
      const page = await get(paths("open").page, signer);
      expect(page.status).toBe(200);
      expect(page.json.items[0].to).toBe(PUBLIC);
      expect((await get(paths("open").audio, signer)).json).toMatchObject({ type: "Audio", to: PUBLIC });
      expect((await get(paths("open").track, signer)).json).toMatchObject({ type: "Track" });
      const media = await get(paths("open").media, signer, { accept: "" });
      expect(media.status).toBe(200);
      expect(media.bytes.equals(libraries.open.bytes)).toBe(true);
    }
  });
});

describe("what is not ours to serve", () => {
  it("answers 404 for an upload that is not finished, or gone", async () => {
    const { uploadId } = libraries.open.track;
    await app.db.pool.query("UPDATE upload SET status = 'errored' WHERE id = $1", [uploadId]);
    try {
      expect((await get(paths("open").audio, null)).status).toBe(404);
      expect((await get(paths("open").media, null)).status).toBe(404);
    } finally {
      await app.db.pool.query("UPDATE upload SET status = 'finished' WHERE id = $1", [uploadId]);
    }
    for (const kind of ["uploads", "media", "tracks", "albums", "artists"]) {
      expect((await get(`/federation/${kind}/${randomUUID()}`, null)).status).toBe(404);
      expect((await get(`/federation/${kind}/not-an-id`, null)).status).toBe(404);
    }
  });

  it("never serves a remote library's audio again, even to that library's follower", async () => {
    const publisher = await app.deps.remoteActors.resolve(remote.actorId("publisher"));
    const remoteLibrary = randomUUID();
    await app.db.pool.query("INSERT INTO library (id, actor_id, fid, name) VALUES ($1, $2, $3, 'Theirs')", [
      remoteLibrary,
      publisher.id,
      `${remote.origin}/libraries/1`,
    ]);
    await follow("fan", remoteLibrary, "accepted");
    // A cached copy on disk, as a play would have left it (the local upload's own file).
    const { rows } = await app.db.pool.query<{ path: string }>("SELECT path FROM upload WHERE id = $1", [libraries.open.track.uploadId]);
    const copy = randomUUID();
    await app.db.pool.query(
      `INSERT INTO upload (id, library_id, track_id, storage, source_url, fid, cached_path, cached_size, cache_used_at, original_name, size, mime_type, status)
       VALUES ($1, $2, $3, 'remote', $4, $5, $6, 40000, now(), 'x.mp3', 40000, 'audio/mpeg', 'finished')`,
      [copy, remoteLibrary, libraries.open.track.trackId, `${remote.origin}/media/1`, `${remote.origin}/uploads/1`, rows[0]!.path],
    );
    for (const path of [`/federation/media/${copy}`, `/federation/uploads/${copy}`, `/federation/libraries/${remoteLibrary}`]) {
      expect([path, (await get(path, remote.key("fan"))).status]).toEqual([path, 404]);
    }
  });
});
