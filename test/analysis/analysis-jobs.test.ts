import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrackAnalysisJob } from "../../core/analysis/track-analysis-job.ts";
import type { AnalyserPool } from "../../core/analysis/analyser-pool.ts";
import { buildAnalyser } from "../../workers/analyser.ts";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";
import { openEventStream } from "../helpers/sse.ts";
import { waitUntil } from "../helpers/wait.ts";
import { rest, tokenParams, type Credentials } from "../subsonic/helpers.ts";

// Issue 20: every imported track is analysed by a worker job (the real analyser, on ffmpeg's tones), the
// result stored at the analyser's version, and its loudness turned into ReplayGain where the tags have none.
describe.skipIf(!hasFfmpeg())("analysis jobs", () => {
  let app: TestApp;
  let dir: string;
  let owner: TestClient;
  let creds: Credentials;
  let libraryId: string;
  let analyser: AnalyserPool;
  const tracks: Record<string, string> = {};

  const analysisOf = async (trackId: string) =>
    (await app.db.pool.query("SELECT * FROM track_analysis WHERE track_id = $1", [trackId])).rows[0];
  const song = async (id: string) => (await rest(app.url, "getSong", { ...tokenParams(creds), f: "json", id })).json.song;
  const jobFor = (version: string) =>
    new TrackAnalysisJob({
      pool: app.db.pool, orm: app.db.orm, mediaDir: app.config.mediaDir, timeLimitMs: 60_000,
      analyser: { version, analyse: (file, options) => analyser.analyse(file, options) },
    });

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    analyser = buildAnalyser(app.config);
    dir = await mkdtemp(path.join(os.tmpdir(), "analysis-jobs-"));
    owner = new TestClient(app.url);
    await owner.signup("analyst");
    creds = (await owner.get("/api/v1/me/subsonic")).body;
    libraryId = (await owner.post("/api/v1/libraries", { name: "Tones" })).body.id;
    const album = { ALBUM: "Sines", ARTIST: "Oscillator" };
    const files = [
      await makeAudio(dir, { name: "quiet", format: "flac", seconds: 4, tags: { ...album, TITLE: "Quiet", TRACKNUMBER: "1" } }),
      await makeAudio(dir, {
        name: "tagged", format: "flac", seconds: 4,
        tags: { ...album, TITLE: "Tagged", TRACKNUMBER: "2", REPLAYGAIN_TRACK_GAIN: "-3.50 dB", REPLAYGAIN_TRACK_PEAK: "0.250000" },
      }),
    ];
    const uploaded = await owner.upload(`/api/v1/libraries/${libraryId}/uploads`, await Promise.all(
      files.map(async (file) => ({ name: path.basename(file), data: await readFile(file) })),
    ));
    expect(uploaded.status).toBe(201);
    await waitForImports(app.db.pool, libraryId);
    const { rows } = await app.db.pool.query<{ title: string; id: string }>("SELECT title, id FROM track");
    for (const row of rows) tracks[row.title] = row.id;
  });
  afterAll(async () => {
    await analyser?.close();
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("queues an analysis job with each import and stores the features at the analyser's version", async () => {
    const rows = await waitUntil(async () => {
      const found = await Promise.all(Object.values(tracks).map(analysisOf));
      return found.every(Boolean) ? found : undefined;
    }, { timeout: 60_000, what: "both tracks' analysis" });
    for (const row of rows) {
      expect(row).toMatchObject({ status: "done", analyser_version: analyser.version, error_message: null });
      // ffmpeg's 440 Hz sine, in both channels, measures about -21.8 LUFS (its own ebur128 filter).
      expect(row.loudness_lufs).toBeGreaterThan(-23);
      expect(row.loudness_lufs).toBeLessThan(-20.5);
      expect(row.duration_seconds).toBeCloseTo(4, 0);
    }
    const { rows: album } = await app.db.pool.query("SELECT * FROM album_loudness");
    expect(album).toHaveLength(1);
    expect(album[0].track_count).toBe(2);
    // Two tracks of the same length and loudness: the album is as loud as each.
    expect(album[0].loudness_lufs).toBeCloseTo(rows[0].loudness_lufs, 1);
  });

  it("gives Subsonic computed ReplayGain where the tags have none, and the tags where they have it", async () => {
    const quiet = await analysisOf(tracks.Quiet!);
    const album = (await app.db.pool.query("SELECT * FROM album_loudness")).rows[0];
    const computed = (await song(tracks.Quiet!)).replayGain;
    expect(computed.trackGain).toBeCloseTo(-18 - quiet.loudness_lufs, 1);
    expect(computed.trackPeak).toBeCloseTo(10 ** (quiet.true_peak_dbtp / 20), 3);
    expect(computed.trackPeak).toBeGreaterThan(0.07); // about -21 dBTP
    expect(computed.trackPeak).toBeLessThan(0.11);
    expect(computed.albumGain).toBeCloseTo(-18 - album.loudness_lufs, 1);
    const tagged = (await song(tracks.Tagged!)).replayGain;
    expect(tagged.trackGain).toBe(-3.5);
    expect(tagged.trackPeak).toBe(0.25);
    // The tags carry no album gain: the computed one fills in.
    expect(tagged.albumGain).toBeCloseTo(computed.albumGain, 2);
    // The REST track says the same.
    const dto = (await owner.get(`/api/v1/tracks/${tracks.Quiet}`)).body;
    expect(dto.replayGain).toEqual(computed);
  });

  it("never gives a Subsonic answer kept from before the track was analysed", async () => {
    await app.db.pool.query("DELETE FROM track_analysis WHERE track_id = $1", [tracks.Quiet]);
    await app.db.pool.query("DELETE FROM album_loudness");
    const before = (await song(tracks.Quiet!)).replayGain;
    expect(before.trackGain).toBeUndefined();
    expect((await song(tracks.Quiet!)).replayGain).toEqual(before); // asked twice: the second answer is the kept one
    expect(await jobFor(analyser.version).run(tracks.Quiet!, { lastAttempt: false })).toBe("done");
    const after = (await song(tracks.Quiet!)).replayGain;
    expect(after.trackGain).toBeCloseTo(-18 - (await analysisOf(tracks.Quiet!)).loudness_lufs, 1);
    expect(after.albumGain).toEqual(expect.any(Number));
  });

  it("leaves a track analysed at the same version alone, and analyses it again at a new version", async () => {
    const before = await analysisOf(tracks.Quiet!);
    expect(await jobFor(analyser.version).run(tracks.Quiet!, { lastAttempt: false })).toBe("skipped");
    expect((await analysisOf(tracks.Quiet!)).analysed_at).toEqual(before.analysed_at);

    expect(await jobFor(`${analyser.version}+next`).run(tracks.Quiet!, { lastAttempt: false })).toBe("done");
    const after = await analysisOf(tracks.Quiet!);
    expect(after.analyser_version).toBe(`${analyser.version}+next`);
    expect(new Date(after.analysed_at).getTime()).toBeGreaterThan(new Date(before.analysed_at).getTime());
    expect(after.loudness_lufs).toBeCloseTo(before.loudness_lufs, 3);
  });

  it("stores the reason of a file that cannot be analysed, and changes nothing else", async () => {
    const { rows } = await app.db.pool.query<{ path: string }>("SELECT path FROM upload WHERE track_id = $1", [tracks.Tagged]);
    const stored = path.join(app.config.mediaDir, rows[0]!.path);
    const original = await readFile(stored);
    const other = await analysisOf(tracks.Quiet!);
    try {
      await writeFile(stored, Buffer.alloc(original.length, 0x5a)); // not audio any more
      expect(await jobFor(`${analyser.version}+broken`).run(tracks.Tagged!, { lastAttempt: false })).toBe("failed");
      const failed = await analysisOf(tracks.Tagged!);
      expect(failed).toMatchObject({ status: "failed", analyser_version: `${analyser.version}+broken`, loudness_lufs: null });
      expect(failed.error_message).toEqual(expect.any(String));
      expect(failed.error_message.length).toBeGreaterThan(5);
      expect(await analysisOf(tracks.Quiet!)).toEqual(other);
      // The album's loudness is now the one track that has some.
      const album = (await app.db.pool.query("SELECT * FROM album_loudness")).rows[0];
      expect(album.track_count).toBe(1);
      expect(album.loudness_lufs).toBeCloseTo(other.loudness_lufs, 3);
      // The file itself still plays as before: analysis touched nothing of the upload.
      expect((await app.db.pool.query("SELECT status FROM upload WHERE track_id = $1", [tracks.Tagged])).rows[0].status).toBe("finished");
    } finally {
      await writeFile(stored, original);
    }
  });

  it("runs a library's analysis of what is missing, with progress to the end and live events", async () => {
    // Both tracks now carry another version's row (or a failure): the worker's version is missing for both.
    const events = await openEventStream(owner);
    try {
      // Two clicks at once make one run.
      const [started, again] = await Promise.all([0, 1].map(() => owner.post(`/api/v1/libraries/${libraryId}/analysis-run`)));
      expect(started!.status).toBe(202);
      expect(started!.body).toMatchObject({ tracks: 2, run: { state: expect.stringMatching(/^(preparing|running|finished)$/) } });
      expect(again!.body.run.id).toBe(started!.body.run.id);
      const finished = await waitUntil(async () => {
        const { body } = await owner.get(`/api/v1/libraries/${libraryId}/analysis-run`);
        return body.run.state === "finished" ? body : undefined;
      }, { timeout: 60_000, what: "the library's analysis run" });
      expect(finished).toMatchObject({
        tracks: 2, analysed: 2, failed: 0,
        run: { id: started!.body.run.id, total: 2, done: 2, failed: 0, secondsLeft: null, analyserVersion: analyser.version },
      });
      expect(finished.run.tracksPerSecond).toBeGreaterThan(0);
      await events.waitFor((e) => e.event === "analysis" && e.data.libraryId === libraryId);
      // Nothing missing now: a new run has nothing to do.
      await owner.post(`/api/v1/libraries/${libraryId}/analysis-run`);
      const empty = await waitUntil(async () => {
        const { body } = await owner.get(`/api/v1/libraries/${libraryId}/analysis-run`);
        return body.run.id !== started!.body.run.id && body.run.state === "finished" ? body : undefined;
      }, { timeout: 30_000, what: "the empty run" });
      expect(empty.run).toMatchObject({ total: 0, done: 0 });
    } finally {
      events.close();
    }
  });

  it("lets only the library's owner and administrators start or read a run", async () => {
    const stranger = new TestClient(app.url);
    await stranger.signup("stranger");
    for (const call of [() => stranger.get(`/api/v1/libraries/${libraryId}/analysis-run`), () => stranger.post(`/api/v1/libraries/${libraryId}/analysis-run`)]) {
      const res = await call();
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ code: "not_found" });
    }
    const anonymous = new TestClient(app.url);
    expect((await anonymous.get(`/api/v1/libraries/${libraryId}/analysis-run`)).status).toBe(401);
    const bad = await owner.get("/api/v1/libraries/not-a-uuid/analysis-run");
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
    expect(bad.body.error).toBeDefined();
    // The first account is the instance's administrator: it may see any library's.
    const adminLibrary = (await stranger.post("/api/v1/libraries", { name: "Stranger's" })).body.id;
    const asAdmin = await owner.get(`/api/v1/libraries/${adminLibrary}/analysis-run`);
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body).toEqual({ tracks: 0, analysed: 0, failed: 0, run: null });
  });
});
