import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitUntil } from "../helpers/wait.ts";
import { makeZip } from "../helpers/zip.ts";

/** One listen of a ListenBrainz export, as the test reads it. */
interface ExportedListen {
  listened_at: number;
  inserted_at: number;
  recording_msid: string;
  user_name: string;
  track_metadata: { track_name: string; artist_name: string; release_name?: string; additional_info: Record<string, unknown> };
}

const RECORDING = "5f9b4c4e-8a1b-4c5d-9e0f-112233445566";
const RELEASE = "0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3";
const RELEASE_GROUP = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e";
const ARTIST = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f";

// Issue 18 point 6: a person's listens out as ListenBrainz's export, and in from LB exports and Last.fm
// CSVs through a real worker, with progress; the one listen model's dedup makes re-imports add nothing.
describe("listen export and import", () => {
  let app: TestApp;
  let alice: TestClient;
  let bob: TestClient;
  let token: string;

  const submit = (payload: unknown[]) =>
    fetch(`${app.url}/1/submit-listens`, {
      method: "POST",
      headers: { Authorization: `Token ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ listen_type: "import", payload }),
    });
  const exported = async (client: TestClient) => {
    const res = await client.get("/api/v1/me/listens/export");
    expect(res.status).toBe(200);
    return { res, listens: (typeof res.body === "string" ? JSON.parse(res.body) : res.body) as ExportedListen[] };
  };
  const upload = (client: TestClient, name: string, text: string) => client.upload(`/api/v1/me/listens/imports`, [{ name, data: Buffer.from(text) }]);
  const finished = (client: TestClient, id: string) =>
    waitUntil(async () => {
      const res = await client.get(`/api/v1/me/listens/imports/${id}`);
      return res.body.status === "done" || res.body.status === "failed" ? res.body : false;
    }, { timeout: 20_000, what: `listen import ${id}` });

  beforeAll(async () => {
    // A 1 MB limit (200 by default), so the test can go past it.
    app = await startTestApp({ worker: true, env: { LISTEN_IMPORT_MAX_MB: "1" } });
    alice = new TestClient(app.url);
    bob = new TestClient(app.url);
    await alice.signup("alice");
    await bob.signup("bob");
    token = (await alice.post("/api/v1/me/listens/token", {})).body.token;
  });
  afterAll(async () => {
    await app?.close();
  });

  it("exports every listen in ListenBrainz's export format, field by field, as a download", async () => {
    const res = await submit([
      {
        listened_at: 1612101900,
        track_metadata: {
          artist_name: "Air", track_name: "Sexy Boy", release_name: "Moon Safari",
          additional_info: {
            recording_mbid: RECORDING, release_mbid: RELEASE, release_group_mbid: RELEASE_GROUP, artist_mbids: [ARTIST],
            tracknumber: 2, duration_ms: 298000, submission_client: "test scrobbler", tags: ["french"],
          },
        },
      },
      { listened_at: 1612102200, track_metadata: { artist_name: "Air", track_name: "Kelly Watch the Stars" } },
    ]);
    expect(res.status).toBe(200);
    const { res: download, listens } = await exported(alice);
    expect(download.headers.get("content-type")).toContain("application/json");
    expect(download.headers.get("content-disposition")).toMatch(/^attachment; filename="?listenbrainz_alice_\d{8}T\d{6}\.json"?$/);
    expect(listens).toHaveLength(2);
    const [first, second] = listens as [ExportedListen, ExportedListen];
    expect(Object.keys(first).sort()).toEqual(["inserted_at", "listened_at", "recording_msid", "track_metadata", "user_name"]);
    expect(first.listened_at).toBe(1612101900);
    expect(first.inserted_at).toBeGreaterThan(1612101900);
    expect(first.inserted_at).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(first.user_name).toBe("alice");
    expect(first.recording_msid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(first.track_metadata).toEqual({
      artist_name: "Air",
      track_name: "Sexy Boy",
      release_name: "Moon Safari",
      additional_info: {
        recording_mbid: RECORDING, release_mbid: RELEASE, release_group_mbid: RELEASE_GROUP, artist_mbids: [ARTIST],
        tracknumber: 2, duration_ms: 298000, submission_client: "test scrobbler", tags: ["french"], recording_msid: first.recording_msid,
      },
    });
    // No release, no ids: the keys are left out, not sent empty.
    expect(second.track_metadata).toEqual({
      artist_name: "Air", track_name: "Kelly Watch the Stars", additional_info: { recording_msid: second.recording_msid },
    });
    expect(second.recording_msid).not.toBe(first.recording_msid);
    // The same recording_msid delete-listen takes (the LB API's listens answer it too).
    const lbListens = await fetch(`${app.url}/1/user/alice/listens`, { headers: { Authorization: `Token ${token}` } }).then((r) => r.json());
    expect(lbListens.payload.listens.map((l: any) => l.recording_msid).sort()).toEqual([first.recording_msid, second.recording_msid].sort());
  });

  it("exports an empty history as an empty array, and only to its owner", async () => {
    expect((await exported(bob)).listens).toEqual([]);
    expect((await new TestClient(app.url).get("/api/v1/me/listens/export")).status).toBe(401);
  });

  it("imports a ListenBrainz export, and importing it again adds nothing", async () => {
    const { res } = await exported(alice);
    // The download as it came (the test client parses JSON answers: written back as JSON text).
    const file = typeof res.body === "string" ? res.body : JSON.stringify(res.body);
    const created = await upload(bob, "listenbrainz_alice.json", file);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ format: "listenbrainz-json", filename: "listenbrainz_alice.json", status: "queued" });
    const done = await finished(bob, created.body.id);
    expect(done).toMatchObject({ status: "done", total: 2, processed: 2, accepted: 2, duplicates: 0, errorCount: 0, errors: [] });
    const mine = (await exported(bob)).listens;
    expect(mine.map((l) => [l.listened_at, l.user_name, l.track_metadata.track_name])).toEqual([
      [1612101900, "bob", "Sexy Boy"], [1612102200, "bob", "Kelly Watch the Stars"],
    ]);
    expect(mine[0]!.track_metadata.additional_info).toMatchObject({ recording_mbid: RECORDING, duration_ms: 298000, tags: ["french"] });

    const again = await upload(bob, "listenbrainz_alice.json", file);
    expect(await finished(bob, again.body.id)).toMatchObject({ status: "done", total: 2, accepted: 0, duplicates: 2 });
    expect((await exported(bob)).listens).toHaveLength(2);
  });

  it("imports the zip ListenBrainz hands out: its listens files, not its feedback or profile", async () => {
    const dave = new TestClient(app.url);
    await dave.signup("dave");
    const daveUpload = (name: string, data: Buffer) => dave.upload(`/api/v1/me/listens/imports`, [{ name, data }]);
    const { listens } = await exported(alice);
    const [first, second] = listens.map((l) => JSON.stringify(l));
    const zip = makeZip({
      "user.json": JSON.stringify({ user_name: "alice" }),
      "feedback.jsonl": JSON.stringify({ score: 1, recording_mbid: RECORDING }),
      "listens/2021/2.jsonl": second!,
      "listens/2021/1.jsonl": `${first}\n`,
    }, ["listens/2021/2.jsonl"]);
    const created = await daveUpload("listenbrainz_alice.zip", zip);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ format: "listenbrainz-jsonl", filename: "listenbrainz_alice.zip" });
    expect(await finished(dave, created.body.id)).toMatchObject({ status: "done", total: 2, accepted: 2, errorCount: 0 });
    expect((await exported(dave)).listens.map((l) => l.track_metadata.track_name)).toEqual(["Sexy Boy", "Kelly Watch the Stars"]);

    const empty = await daveUpload("other.zip", makeZip({ "user.json": "{}" }));
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toContain("no listens/*.jsonl");
    const cut = await daveUpload("cut.zip", zip.subarray(0, zip.length - 30));
    expect(cut.status).toBe(400);
    expect(cut.body.error.code).toBe("unknown_listen_file");
  });

  it("imports JSON lines in batches, with progress and bad lines by number", async () => {
    const lines = Array.from({ length: 2500 }, (_, i) =>
      JSON.stringify({ listened_at: 1580000000 + i * 240, track_metadata: { artist_name: "Daft Punk", track_name: `Track ${i % 50}` } }));
    lines.splice(10, 0, "{not json}");
    lines.splice(20, 0, JSON.stringify({ listened_at: 1580000000, track_metadata: { artist_name: "", track_name: "x" } }));
    lines.splice(30, 0, JSON.stringify({ listened_at: 1000, track_metadata: { artist_name: "a", track_name: "b" } }));
    const created = await upload(bob, "listens.jsonl", lines.join("\n") + "\n");
    expect(created.status).toBe(201);
    expect(created.body.format).toBe("listenbrainz-jsonl");
    const done = await finished(bob, created.body.id);
    expect(done).toMatchObject({ status: "done", total: 2503, processed: 2503, accepted: 2500, duplicates: 0, errorCount: 3 });
    expect(done.errors.map((e: any) => e.line)).toEqual([11, 21, 31]);
    expect(done.errors[0].message).toMatch(/^Not valid JSON/);
    expect(done.errors[1].message).toBe("field track_metadata.artist_name is empty.");
    expect(done.errors[2].message).toMatch(/listened_at is too low/);
    expect(done.rate).toBeGreaterThan(0);
    expect(new Date(done.finishedAt).getTime()).toBeGreaterThanOrEqual(new Date(done.startedAt).getTime());
    const list = await bob.get("/api/v1/me/listens/imports");
    expect(list.body.imports[0].id).toBe(created.body.id);
    expect(list.body.imports).toHaveLength(3);
  });

  it("reports progress while it runs: done/total after each batch of 1000", async () => {
    const carol = new TestClient(app.url);
    const carolId = (await carol.signup("carol")).body.user.id as string;
    const lines = Array.from({ length: 2500 }, (_, i) =>
      JSON.stringify({ listened_at: 1590000000 + i * 300, track_metadata: { artist_name: "Stereolab", track_name: `Song ${i}` } }));
    // The same listen as line 1501, written in a transaction the test holds open: the second batch waits
    // on it (unique index), so the job is seen between batches. Rolled back, it never existed.
    const blocker = await app.db.pool.connect();
    try {
      await blocker.query("BEGIN");
      // Without the statistics triggers: their rollup rows would hold up the first batch too.
      await blocker.query("SET LOCAL session_replication_role = replica");
      await blocker.query(
        `INSERT INTO listen (id, user_id, listened_at, track_name, artist_name, source) VALUES (gen_random_uuid(), $1, to_timestamp($2), 'Song 1500', 'Stereolab', 'import')`,
        [carolId, 1590000000 + 1500 * 300],
      );
      const created = await upload(carol, "big.jsonl", lines.join("\n"));
      expect(created.status).toBe(201);
      const midway = await waitUntil(async () => {
        const res = await carol.get(`/api/v1/me/listens/imports/${created.body.id}`);
        return res.body.processed > 0 ? res.body : false;
      }, { timeout: 20_000, what: "the first batch" });
      expect(midway).toMatchObject({ status: "running", total: 2500, processed: 1000, accepted: 1000 });
      expect(midway.rate).toBeGreaterThan(0);
      await blocker.query("ROLLBACK");
      expect(await finished(carol, created.body.id)).toMatchObject({ status: "done", total: 2500, processed: 2500, accepted: 2500 });
      // The export pages through them (1000 a query): every listen once, oldest first.
      const all = (await exported(carol)).listens;
      expect(all.map((l) => l.listened_at)).toEqual(Array.from({ length: 2500 }, (_, i) => 1590000000 + i * 300));
    } finally {
      blocker.release();
    }
  });

  it("imports both Last.fm CSV forms, moving the Last.fm import watermark", async () => {
    const headerless = ['Air,Moon Safari,Sexy Boy,31 Jan 2021 14:05', '"Simon & Garfunkel","Bookends","Mrs. Robinson, Pt. 2",01 Feb 2021 09:30', "Air,,Remember,not a date"].join("\n");
    const plain = await upload(bob, "scrobbles.csv", headerless);
    expect(plain.body.format).toBe("lastfm-csv");
    const plainDone = await finished(bob, plain.body.id);
    // 31 Jan 2021 14:05 UTC is 1612101900: the same play Bob already has from the LB export, kept once.
    expect(plainDone).toMatchObject({ status: "done", total: 3, accepted: 1, duplicates: 1, errorCount: 1 });
    expect(plainDone.errors).toEqual([{ line: 3, message: 'Unreadable date "not a date" (expected like "31 Jan 2021 14:05")' }]);

    const withHeader = [
      "uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid",
      `1612360000,"03 Feb 2021, 13:46",Massive Attack,${ARTIST},Mezzanine,${RELEASE},Teardrop,${RECORDING}`,
      "1612370000,\"03 Feb 2021, 16:33\",Portishead,,Dummy,,Roads,",
    ].join("\r\n");
    const header = await upload(bob, "lastfm.csv", withHeader);
    expect(header.body.format).toBe("lastfm-csv-header");
    expect(await finished(bob, header.body.id)).toMatchObject({ status: "done", total: 2, accepted: 2, errorCount: 0 });

    const byTime = new Map((await exported(bob)).listens.map((l) => [l.listened_at, l]));
    expect(byTime.get(Date.UTC(2021, 0, 31, 14, 5) / 1000)!.track_metadata).toMatchObject({
      artist_name: "Air", track_name: "Sexy Boy", release_name: "Moon Safari",
    });
    expect(byTime.get(Date.UTC(2021, 1, 1, 9, 30) / 1000)!.track_metadata).toMatchObject({
      artist_name: "Simon & Garfunkel", release_name: "Bookends", track_name: "Mrs. Robinson, Pt. 2",
    });
    expect(byTime.get(1612360000)!.track_metadata).toMatchObject({
      artist_name: "Massive Attack", track_name: "Teardrop", release_name: "Mezzanine",
      additional_info: { recording_mbid: RECORDING, release_mbid: RELEASE, artist_mbids: [ARTIST] },
    });
    expect(byTime.get(1612370000)!.track_metadata.release_name).toBe("Dummy");
    // Re-importing the CSV adds nothing either.
    const again = await upload(bob, "lastfm.csv", withHeader);
    expect(await finished(bob, again.body.id)).toMatchObject({ accepted: 0, duplicates: 2 });

    const bobToken = (await bob.post("/api/v1/me/listens/token", {})).body.token;
    const mark = await fetch(`${app.url}/1/latest-import?user_name=bob&service=lastfm`, { headers: { Authorization: `Token ${bobToken}` } });
    expect((await mark.json()).latest_import).toBe(1612370000);
  });

  it("refuses a file in neither format or cut short (400), or over the size limit (413), queueing nothing", async () => {
    const before = (await bob.get("/api/v1/me/listens/imports")).body.imports.length;
    const files: [string, string][] = [["notes.txt", "hello, this is not a listen file\n"], ["empty.json", ""], ["cut.json", '[{"listened_at": 1612101900,']];
    for (const [name, text] of files) {
      const res = await upload(bob, name, text);
      expect(res.status, name).toBe(400);
      expect(res.body.error.code, name).toBe("unknown_listen_file");
    }
    const big = await upload(bob, "big.jsonl", `${JSON.stringify({ listened_at: 1612101900, track_metadata: { artist_name: "a", track_name: "b" } })}\n`.repeat(20_000));
    expect(big.status).toBe(413);
    expect(big.body.error).toEqual({ code: "listen_file_too_large", message: "A listen file may be at most 1 MB" });
    const noFile = await bob.request("POST", "/api/v1/me/listens/imports", { json: {} });
    expect(noFile.status).toBe(400);
    expect((await bob.get("/api/v1/me/listens/imports")).body.imports).toHaveLength(before);
  });

  it("shows an import's status to its owner only", async () => {
    const mine = (await bob.get("/api/v1/me/listens/imports")).body.imports[0].id;
    expect((await alice.get(`/api/v1/me/listens/imports/${mine}`)).status).toBe(404);
    expect((await alice.get("/api/v1/me/listens/imports/not-an-id")).status).toBe(404);
    expect((await new TestClient(app.url).get(`/api/v1/me/listens/imports/${mine}`)).status).toBe(401);
    expect((await alice.get("/api/v1/me/listens/imports")).body.imports).toEqual([]);
  });
});
