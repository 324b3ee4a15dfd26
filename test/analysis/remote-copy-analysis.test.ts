import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { followedRemoteLibrary, localPublicKeys, remoteTrack, startAudioRemote, type AudioRemote } from "../helpers/remote-audio.ts";
import { waitUntil } from "../helpers/wait.ts";

// A remote track is analysed once the server holds its bytes (issue 20): its first play keeps a copy in the
// cache, and that copy queues the analysis; before it, there is nothing on this server's disk to measure.
describe.skipIf(!hasFfmpeg())("analysis of remote tracks", () => {
  let app: TestApp;
  let remote: AudioRemote;
  let listener: TestClient;
  let dir: string;

  beforeAll(async () => {
    app = await startTestApp({ env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" }, worker: true });
    listener = new TestClient(app.url);
    await listener.signup("listener");
    remote = await startAudioRemote(localPublicKeys(app));
    dir = await mkdtemp(path.join(os.tmpdir(), "remote-analysis-"));
  });
  afterAll(async () => {
    await remote?.close();
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const analysisJobs = async () =>
    (await app.db.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'analyze_track'")).rows[0].n;

  it("queues the analysis when the first play's copy is kept, and measures that copy", async () => {
    const seedLibrary = (await listener.post("/api/v1/libraries", { name: "Seed" })).body.id;
    const remoteLibrary = await followedRemoteLibrary(app, remote.origin, ["listener"]);
    const data = await readFile(await makeAudio(dir, { name: "far", format: "flac", seconds: 3 }));
    remote.modes.set("/audio/far", { kind: "ok", data });
    const { trackId, uploadId } = await remoteTrack(app, seedLibrary, remoteLibrary, remote.origin, "/audio/far", {
      tags: { TITLE: "Far", ARTIST: "Away", ALBUM: "Elsewhere" }, format: "flac", data, seconds: 3,
    });
    expect(await analysisJobs()).toBe(0);

    const response = await fetch(`${app.url}/api/v1/tracks/${trackId}/stream`, { headers: { cookie: listener.cookie! } });
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(data)).toBe(true);

    const row = await waitUntil(async () => (await app.db.pool.query(
      "SELECT status, upload_id, loudness_lufs FROM track_analysis WHERE track_id = $1", [trackId],
    )).rows[0], { timeout: 60_000, what: "the remote track's analysis" });
    expect(row).toMatchObject({ status: "done", upload_id: uploadId });
    expect(row.loudness_lufs).toBeLessThan(-15);
  }, 90_000);
});
