import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { sleep, waitUntil } from "../helpers/wait.ts";
import { sign } from "./lastfm-helpers.ts";

interface Received {
  headers: IncomingMessage["headers"];
  body: any;
}

/** A fake target on loopback: records every request, answers the queued statuses first, then 200 `ok`. */
async function fakeTarget(kind: "listenbrainz" | "lastfm") {
  const received: Received[] = [];
  const answers: { status: number; body: unknown }[] = [];
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => {
      const body = kind === "listenbrainz" ? JSON.parse(text) : Object.fromEntries(new URLSearchParams(text));
      received.push({ headers: req.headers, body: { ...body, path: req.url } });
      const answer = answers.shift() ?? { status: 200, body: kind === "listenbrainz" ? { status: "ok" } : { scrobbles: { "@attr": { accepted: 1 } } } };
      res.writeHead(answer.status, { "Content-Type": "application/json" }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    received,
    answers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("relay of listens to ListenBrainz and Last.fm", () => {
  let app: TestApp;
  let alice: TestClient;
  let aliceId: string;
  let lbToken: string;
  let lb: Awaited<ReturnType<typeof fakeTarget>>;
  let fm: Awaited<ReturnType<typeof fakeTarget>>;
  let trackId: string;
  const REMOTE_TOKEN = "11111111-2222-3333-4444-555555555555";
  const LASTFM = { apiKey: "a".repeat(32), secret: "s3cr3t-lastfm-shared-secret", sessionKey: "sk-session-key-of-alice" };
  const now = Math.floor(Date.now() / 1000);

  const submit = (type: string, payload: unknown[]) =>
    fetch(`${app.url}/1/submit-listens`, {
      method: "POST",
      headers: { Authorization: `Token ${lbToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ listen_type: type, payload }),
    });
  const listen = (at: number, track: string) =>
    ({ listened_at: at, track_metadata: { artist_name: "Air", track_name: track, release_name: "Moon Safari", additional_info: { submission_client: "test scrobbler" } } });
  const lbListens = () => lb.received.filter((r) => r.body.listen_type !== "playing_now");
  const relay = async (target: string) => (await alice.get(`/api/v1/me/listens/relay/${target}`)).body;

  beforeAll(async () => {
    [lb, fm] = await Promise.all([fakeTarget("listenbrainz"), fakeTarget("lastfm")]);
    app = await startTestApp({ worker: true, env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
    alice = new TestClient(app.url);
    aliceId = (await alice.signup("alice")).body.user.id;
    lbToken = (await alice.post("/api/v1/me/listens/token", {})).body.token;
    const library = (await alice.post("/api/v1/libraries", { name: "Mine" })).body.id;
    trackId = (await seedTracks(app, library, [{ tags: { TITLE: "Kelly Watch the Stars", ARTIST: "Air", ALBUM: "Moon Safari" }, seconds: 225 }]))[0]!.trackId;
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all([lb?.close(), fm?.close()]);
  });

  it("saves credentials sealed, never answers them back, and checks the body", async () => {
    expect(await relay("listenbrainz")).toMatchObject({ configured: false, baseUrl: "https://api.listenbrainz.org", status: null });
    const put = await alice.request("PUT", "/api/v1/me/listens/relay/listenbrainz", { json: { token: REMOTE_TOKEN, baseUrl: lb.url } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ configured: true, baseUrl: lb.url, status: "active", lastError: null });
    expect(JSON.stringify(put.body)).not.toContain(REMOTE_TOKEN);
    const fmPut = await alice.request("PUT", "/api/v1/me/listens/relay/lastfm", { json: { ...LASTFM, baseUrl: fm.url } });
    expect(fmPut.status).toBe(200);
    expect(JSON.stringify(fmPut.body)).not.toContain(LASTFM.secret);
    const { rows } = await app.db.pool.query("SELECT t::text AS row FROM listen_relay t WHERE user_id = $1", [aliceId]);
    expect(rows).toHaveLength(2);
    for (const { row } of rows) for (const secret of [REMOTE_TOKEN, LASTFM.apiKey, LASTFM.secret, LASTFM.sessionKey]) expect(row).not.toContain(secret);
    expect((await alice.request("PUT", "/api/v1/me/listens/relay/listenbrainz", { json: { token: "" } })).status).toBe(400);
    expect((await alice.request("PUT", "/api/v1/me/listens/relay/lastfm", { json: { apiKey: "k", baseUrl: "ftp://x/" } })).status).toBe(400);
    expect((await new TestClient(app.url).get("/api/v1/me/listens/relay/lastfm")).status).toBe(401);
  });

  it("relays a listen sent to /1/ to ListenBrainz (token, payload) and to Last.fm (track.scrobble, valid api_sig)", async () => {
    expect((await submit("single", [listen(now - 600, "Sexy Boy")])).status).toBe(200);
    const sent = await waitUntil(() => lbListens().find((r) => r.body.payload[0].track_metadata.track_name === "Sexy Boy"), { what: "the relay to ListenBrainz" });
    expect(sent.headers.authorization).toBe(`Token ${REMOTE_TOKEN}`);
    expect(sent.body).toEqual({
      path: "/1/submit-listens",
      listen_type: "single",
      payload: [{ listened_at: now - 600, track_metadata: { artist_name: "Air", track_name: "Sexy Boy", release_name: "Moon Safari", additional_info: { submission_client: "test scrobbler" } } }],
    });
    const scrobble = await waitUntil(() => fm.received.find((r) => r.body["track[0]"] === "Sexy Boy"), { what: "the relay to Last.fm" });
    const { api_sig: apiSig, path: _path, ...params } = scrobble.body;
    expect(params).toMatchObject({ method: "track.scrobble", api_key: LASTFM.apiKey, sk: LASTFM.sessionKey, "artist[0]": "Air", "album[0]": "Moon Safari", "timestamp[0]": String(now - 600), format: "json" });
    expect(apiSig).toBe(sign(params, LASTFM.secret));
    await waitUntil(async () => (await relay("lastfm")).deliveredCount === 1, { what: "Last.fm delivery recorded" });
  });

  it("relays a web player listen and playing-now reports", async () => {
    expect((await alice.post(`/api/v1/tracks/${trackId}/plays`, {})).status).toBe(201);
    const sent = await waitUntil(() => lbListens().find((r) => r.body.payload[0].track_metadata.track_name === "Kelly Watch the Stars"));
    expect(sent.body.payload[0].track_metadata).toMatchObject({ artist_name: "Air", release_name: "Moon Safari" });
    expect(sent.body.payload[0].listened_at).toBeGreaterThan(now - 60);
    await submit("playing_now", [{ track_metadata: { artist_name: "Air", track_name: "Playground Love" } }]);
    const playing = await waitUntil(() => lb.received.find((r) => r.body.listen_type === "playing_now"));
    expect(playing.body.payload).toEqual([{ track_metadata: { artist_name: "Air", track_name: "Playground Love" } }]);
    const fmPlaying = await waitUntil(() => fm.received.find((r) => r.body.method === "track.updateNowPlaying"));
    expect(fmPlaying.body).toMatchObject({ artist: "Air", track: "Playground Love" });
  });

  it("sends big batches as one ListenBrainz import and Last.fm scrobbles of 50", async () => {
    const before = fm.received.length;
    const batch = Array.from({ length: 120 }, (_, i) => listen(now - 86_400 - i * 300, `Batch ${i}`));
    expect((await submit("import", batch)).status).toBe(200);
    const sent = await waitUntil(() => lbListens().find((r) => r.body.payload.length === 120));
    expect(sent.body.listen_type).toBe("import");
    await waitUntil(() => fm.received.filter((r) => r.body["track[0]"]?.startsWith("Batch")).length === 3);
    expect(fm.received.slice(before).map((r) => Object.keys(r.body).filter((k) => k.startsWith("track[")).length).sort()).toEqual([20, 50, 50]);
  });

  it("retries after a 500 and delivers once; the listen is kept at once while the target is down", async () => {
    lb.answers.push({ status: 500, body: { code: 500, error: "boom" } });
    fm.answers.push({ status: 503, body: { error: 16, message: "Temporarily unavailable" } });
    const res = await submit("single", [listen(now - 500, "Retried")]);
    expect(res.status).toBe(200);
    expect((await app.db.pool.query("SELECT 1 FROM listen WHERE user_id = $1 AND track_name = 'Retried'", [aliceId])).rowCount).toBe(1);
    await waitUntil(async () => (await relay("lastfm")).lastError?.includes("503"), { what: "the Last.fm error shown" });
    expect((await relay("lastfm")).status).toBe("active");
    const tries = () => lbListens().filter((r) => r.body.payload[0].track_metadata.track_name === "Retried");
    await waitUntil(() => tries().length === 2, { timeout: 20_000, what: "the retry" });
    // Last.fm's retry too, before the next test queues its own answers for that target.
    const fmTries = () => fm.received.filter((r) => r.body["track[0]"] === "Retried");
    await waitUntil(() => fmTries().length === 2, { timeout: 20_000, what: "the Last.fm retry" });
    await waitUntil(async () => (await relay("listenbrainz")).lastError === null, { what: "the error cleared" });
    await sleep(1000);
    expect(tries()).toHaveLength(2);
    expect(fmTries()).toHaveLength(2);
  });

  it("does not relay imported listens (they came from elsewhere)", async () => {
    await app.deps.listenIngest.submit(aliceId, [{ listenedAt: new Date((now - 7200) * 1000), artistName: "Air", trackName: "Imported" }], "import");
    await submit("single", [listen(now - 400, "After import")]);
    await waitUntil(() => lbListens().find((r) => r.body.payload[0].track_metadata.track_name === "After import"));
    await sleep(1500);
    const names = lb.received.concat(fm.received).map((r) => JSON.stringify(r.body));
    expect(names.filter((n) => n.includes("Imported"))).toEqual([]);
  });

  it("stops at a 401 (Last.fm: error 9) and shows why; the listens stay here", async () => {
    lb.answers.push({ status: 401, body: { code: 401, error: "Invalid authorization token." } });
    await submit("single", [listen(now - 300, "Refused")]);
    const status = await waitUntil(async () => { const r = await relay("listenbrainz"); return r.status === "failing" && r; }, { what: "the relay failing" });
    expect(status.lastError).toBe("ListenBrainz answered 401: Invalid authorization token.");
    const count = lb.received.length;
    // Last.fm says a bad session key with error 9 (and HTTP 403).
    fm.answers.push({ status: 403, body: { error: 9, message: "Invalid session key - Please re-authenticate" } });
    await submit("single", [listen(now - 200, "Not sent")]);
    await waitUntil(() => fm.received.find((r) => r.body["track[0]"] === "Not sent"));
    const fmStatus = await waitUntil(async () => { const r = await relay("lastfm"); return r.status === "failing" && r; }, { what: "Last.fm failing" });
    expect(fmStatus.lastError).toBe("Last.fm answered 403 (error 9): Invalid session key - Please re-authenticate");
    await sleep(1500);
    expect(lb.received.length).toBe(count);
    expect((await app.db.pool.query("SELECT 1 FROM listen WHERE user_id = $1 AND track_name IN ('Refused', 'Not sent')", [aliceId])).rowCount).toBe(2);
    // New credentials restart it; removing it ends it.
    expect((await alice.request("PUT", "/api/v1/me/listens/relay/listenbrainz", { json: { token: REMOTE_TOKEN, baseUrl: lb.url } })).body.status).toBe("active");
    expect((await alice.request("DELETE", "/api/v1/me/listens/relay/listenbrainz")).status).toBe(204);
    expect((await alice.request("DELETE", "/api/v1/me/listens/relay/listenbrainz")).status).toBe(404);
    expect(await relay("listenbrainz")).toMatchObject({ configured: false });
  });
});
