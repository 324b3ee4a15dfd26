import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeAnalysis } from "../../core/analysis/analysis-store.ts";
import type { TrackFeatures } from "../../core/analysis/track-features.ts";
import { withTransaction } from "../../core/db/transaction.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks, type SeededTrack } from "../helpers/factories.ts";

// An album's loudness for its ReplayGain (issue 20, migration 0030): the duration-weighted power mean of its
// analysed tracks' integrated loudness and their highest true peak, kept current as tracks are analysed,
// deleted or moved to another album. The measures are given here; the analyser is tested on its own.
describe("album loudness", () => {
  let app: TestApp;
  let owner: TestClient;
  let seeded: SeededTrack[];

  const features = (loudnessLufs: number, durationSeconds: number, truePeakDbtp: number): TrackFeatures => ({
    durationSeconds, tempoBpm: null, tempoConfidence: null, keyTonic: null, keyMode: null, keyStrength: null,
    loudnessLufs, loudnessRangeLu: null, truePeakDbtp, energy: null, danceability: null, dynamicComplexity: null, extra: {},
  });
  const store = (trackId: string, f: TrackFeatures) =>
    withTransaction(app.db, ({ sql }) => storeAnalysis(sql, { id: trackId, uploadId: null }, "test-1", { status: "done", features: f }));
  const albumOf = async (trackId: string) =>
    (await app.db.pool.query(
      "SELECT al.loudness_lufs, al.true_peak_dbtp, al.track_count FROM track t LEFT JOIN album_loudness al ON al.album_id = t.album_id WHERE t.id = $1",
      [trackId],
    )).rows[0];

  beforeAll(async () => {
    app = await startTestApp();
    owner = new TestClient(app.url);
    await owner.signup("mixer");
    const libraryId = (await owner.post("/api/v1/libraries", { name: "Mixes" })).body.id;
    const album = { ALBUM: "Dynamics", ARTIST: "Range" };
    seeded = await seedTracks(app, libraryId, [
      { tags: { ...album, TITLE: "Loud", TRACKNUMBER: "1" } },
      { tags: { ...album, TITLE: "Soft", TRACKNUMBER: "2" } },
      { tags: { ...album, TITLE: "Unmeasured", TRACKNUMBER: "3" } },
      { tags: { ALBUM: "Elsewhere", ARTIST: "Range", TITLE: "Other" } },
    ]);
  });
  afterAll(() => app?.close());

  it("weighs each track by its duration in power, not by averaging LUFS, and takes the highest peak", async () => {
    const [loud, soft, unmeasured] = seeded;
    expect(await store(loud!.trackId, features(-10, 180, -0.5))).toBe(true);
    expect(await albumOf(loud!.trackId)).toMatchObject({ track_count: 1, true_peak_dbtp: -0.5 });
    expect((await albumOf(loud!.trackId)).loudness_lufs).toBeCloseTo(-10, 4);
    await store(soft!.trackId, features(-20, 60, -3));
    // 10*log10((180*10^-1 + 60*10^-2) / 240) = -11.11 LUFS (the mean of the LUFS values would be -12.5).
    const album = await albumOf(unmeasured!.trackId);
    expect(album).toMatchObject({ track_count: 2, true_peak_dbtp: -0.5 });
    expect(album.loudness_lufs).toBeCloseTo(-11.11, 2);
    // Subsonic and REST give the album gain from it: -18 - (-11.11).
    const track = (await owner.get(`/api/v1/tracks/${soft!.trackId}`)).body;
    expect(track.replayGain).toMatchObject({ trackGain: 2, albumGain: -6.89 });
    expect(track.replayGain.albumPeak).toBeCloseTo(10 ** (-0.5 / 20), 5);
  });

  it("is computed again when a track leaves the album, and goes with the album's last analysed track", async () => {
    const [loud, soft, unmeasured, other] = seeded;
    // The soft track moves to the other album (as a re-import with new tags may do).
    const { rows } = await app.db.pool.query("SELECT album_id FROM track WHERE id = $1", [other!.trackId]);
    await app.db.pool.query("UPDATE track SET album_id = $2 WHERE id = $1", [soft!.trackId, rows[0].album_id]);
    expect(await albumOf(loud!.trackId)).toMatchObject({ track_count: 1 });
    expect((await albumOf(loud!.trackId)).loudness_lufs).toBeCloseTo(-10, 4);
    expect(await albumOf(other!.trackId)).toMatchObject({ track_count: 1, true_peak_dbtp: -3 });

    // The loud track's upload is deleted: the album keeps only an unmeasured track, so no loudness.
    const upload = await owner.request("DELETE", `/api/v1/uploads/${loud!.uploadId}`);
    expect(upload.status).toBe(204);
    expect(await albumOf(unmeasured!.trackId)).toEqual({ loudness_lufs: null, true_peak_dbtp: null, track_count: null });
  });
});
