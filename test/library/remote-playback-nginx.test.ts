import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { startNginx, type RunningNginx } from "../helpers/nginx.ts";
import { followedRemoteLibrary, localPublicKeys, remoteTrack, startAudioRemote, type AudioRemote } from "../helpers/remote-audio.ts";
import { systemProgram } from "../helpers/system-programs.ts";
import { waitUntil } from "../helpers/wait.ts";

// In production nginx sends the audio (MEDIA_SERVING=nginx): a remote track's first play streams from
// the app as its download arrives; its copy, under MEDIA_DIR like uploads, then goes by X-Accel-Redirect.

const nginx = hasFfmpeg() ? systemProgram("nginx") : undefined;

describe.skipIf(!nginx)("a remote track behind nginx", () => {
  let app: TestApp;
  let proxy: RunningNginx;
  let remote: AudioRemote;
  let alice: TestClient;
  let dir: string;
  beforeAll(async () => {
    app = await startTestApp({ env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true", MEDIA_SERVING: "nginx" } });
    proxy = await startNginx({ upstreamPort: Number(new URL(app.url).port), mediaRoot: app.config.mediaDir });
    alice = new TestClient(app.url);
    await alice.signup("alice");
    remote = await startAudioRemote(localPublicKeys(app));
    dir = await mkdtemp(path.join(os.tmpdir(), "remote-nginx-"));
  });
  afterAll(async () => {
    await remote?.close();
    await proxy?.stop();
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("streams the first play through the app, then lets nginx send the copy, whole and by range", async () => {
    const data = await readFile(await makeAudio(dir, { name: "tone", format: "flac", seconds: 3 }));
    remote.modes.set("/audio/tone", { kind: "ok", data, type: "audio/flac" });
    const seed = (await alice.post("/api/v1/libraries", { name: "Seed" })).body.id;
    const library = await followedRemoteLibrary(app, remote.origin, ["alice"]);
    const t = await remoteTrack(app, seed, library, remote.origin, "/audio/tone", { tags: { TITLE: "Tone" }, format: "flac", data, seconds: 3 });
    const url = `${proxy.url}/api/v1/tracks/${t.trackId}/stream`;

    const first = await fetch(url, { headers: { cookie: alice.cookie! } });
    expect(first.status).toBe(200);
    expect(Buffer.from(await first.arrayBuffer()).equals(data)).toBe(true);
    await waitUntil(async () => (await app.db.pool.query("SELECT cached_path FROM upload WHERE id = $1", [t.uploadId])).rows[0].cached_path ?? undefined);

    const direct = await fetch(`${app.url}/api/v1/tracks/${t.trackId}/stream`, { headers: { cookie: alice.cookie! } });
    expect(direct.headers.get("x-accel-redirect")).toMatch(new RegExp(`^/_protected/media/remote-cache/[0-9a-f]{2}/${t.uploadId}\\.[0-9a-f]{12}\\.flac$`));
    await direct.arrayBuffer();
    const whole = await fetch(url, { headers: { cookie: alice.cookie! } });
    expect(whole.headers.get("content-type")).toBe("audio/flac");
    expect(whole.headers.get("x-accel-redirect")).toBeNull();
    expect(Buffer.from(await whole.arrayBuffer()).equals(data)).toBe(true);
    const part = await fetch(url, { headers: { cookie: alice.cookie!, range: "bytes=1000-1999" } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(1000, 2000))).toBe(true);
    expect(remote.hitsOf("/audio/tone")).toHaveLength(1);
    // The copy is not reachable but through the app's authorization.
    expect((await fetch(`${proxy.url}${direct.headers.get("x-accel-redirect")}`)).status).toBe(404);
  });
});
