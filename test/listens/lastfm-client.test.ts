import type { EventEmitter } from "node:events";
import { LastFmNode, type LastFmSession } from "lastfm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { PASSWORD, TestClient } from "../helpers/client.ts";
import { registerApp, type LfmApp } from "./lastfm-helpers.ts";

/** The first `success` (resolved) or `error` (rejected) an emitter of lastfm-node reports. */
function outcome(emitter: EventEmitter): Promise<any> {
  return new Promise((resolve, reject) => {
    emitter.once("success", resolve);
    emitter.once("error", reject);
  });
}

// lastfm-node (npm `lastfm`, MIT), an independent client: `host` and `port` point it at our server; it
// signs as Last.fm documents, sends writes as form POSTs to /2.0 and reads JSON.
describe("Last.fm /2.0/ through the lastfm-node client", () => {
  let app: TestApp;
  let alice: TestClient;
  let player: LfmApp;
  let client: LastFmNode;
  let session: LastFmSession;

  beforeAll(async () => {
    app = await startTestApp();
    alice = new TestClient(app.url);
    await alice.signup("alice");
    player = await registerApp(alice, "lastfm-node");
    const { hostname, port } = new URL(app.url);
    client = new LastFmNode({ api_key: player.apiKey, secret: player.secret, host: hostname, port: Number(port) });
  });
  afterAll(async () => {
    session?.cancel();
    await app?.close();
  });

  it("gets a token, waits (retrying on 14) while the person approves it in the browser, then holds a session", async () => {
    const { token } = await outcome(client.request("auth.getToken"));
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    const retried: number[] = [];
    const authorised = new Promise<LastFmSession>((resolve, reject) => {
      session = client.session({
        token,
        retryInterval: 50,
        handlers: {
          // The client polls auth.getSession while the token is unapproved, as desktop scrobblers do.
          retrying: (retry: { error: number }) => {
            retried.push(retry.error);
            if (retried.length === 1) void alice.post("/api/v1/lastfm/auth", { apiKey: player.apiKey, token });
          },
          authorised: resolve,
          error: reject,
        },
      });
    });
    const done = await authorised;
    expect(retried[0]).toBe(14);
    expect(done.user).toBe("alice");
    expect(done.key).toMatch(/^[0-9a-f]{32}$/);
  });

  it("scrobbles and sends now playing through the session", async () => {
    const timestamp = Math.floor(Date.now() / 1000) - 120;
    const track = { name: "Kelly Watch the Stars", artist: { "#text": "Air" }, album: { "#text": "Moon Safari" } };
    await outcome(client.update("nowplaying", session, { track }));
    await outcome(client.update("scrobble", session, { track, timestamp }));
    const { rows } = await app.db.pool.query("SELECT artist_name, track_name, release_name, client, extract(epoch FROM listened_at)::int AS ts FROM listen");
    expect(rows).toEqual([{ artist_name: "Air", track_name: "Kelly Watch the Stars", release_name: "Moon Safari", client: "lastfm-node", ts: timestamp }]);
  });

  it("opens a mobile session, reads user.getInfo, and hears our errors as Last.fm's", async () => {
    const mobile = await outcome(client.request("auth.getMobileSession", { username: "alice", password: PASSWORD, write: true }));
    expect(mobile.session.name).toBe("alice");
    const info = await outcome(client.request("user.getInfo", { sk: mobile.session.key }));
    expect(info.user).toMatchObject({ name: "alice", playcount: "1" });

    const wrongSecret = new LastFmNode({ api_key: player.apiKey, secret: "0".repeat(32), host: new URL(app.url).hostname, port: Number(new URL(app.url).port) });
    await expect(outcome(wrongSecret.request("auth.getToken"))).rejects.toEqual({ error: 13, message: "Invalid method signature supplied" });
    await expect(outcome(client.request("auth.getMobileSession", { username: "alice", password: "wrong", write: true }))).rejects.toMatchObject({ error: 4 });
  });
});
