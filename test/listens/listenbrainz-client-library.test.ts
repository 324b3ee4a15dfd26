import { afterAll, beforeAll, describe, expect, it } from "vitest";
// An independent ListenBrainz client from npm (`listenbrainz`, node-fetch based), pointed at us by its base URL.
import { Client } from "listenbrainz";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";

describe("ListenBrainz API through the npm `listenbrainz` client", () => {
  let app: TestApp;
  let client: Client;

  beforeAll(async () => {
    app = await startTestApp();
    const web = new TestClient(app.url);
    await web.signup("alice");
    // The library reads listens without a token: they must be public.
    await web.request("PUT", "/api/v1/me/listens/privacy", { json: { privacy: "public" } });
    const token = (await web.post("/api/v1/me/listens/token", {})).body.token;
    client = new Client(token, `${app.url}/`);
  });
  afterAll(async () => {
    await app?.close();
  });

  it("submits listens and reads them back, with the rate-limit headers it parses", async () => {
    const at = Math.floor(Date.now() / 1000) - 300;
    expect(await client.submitListen({
      listen_type: "single",
      payload: [{ listened_at: at, track_metadata: { artist_name: "Air", track_name: "Sexy Boy", release_name: "Moon Safari" } }],
    })).toEqual({ status: 200 });
    const read = await client.getUserListens("alice");
    expect(read?.data).toMatchObject({ count: 1, listens: [{ artist_name: "Air", track_name: "Sexy Boy" }] });
    expect(read?.rate_limit.limit).toBe(60);
    expect(read?.rate_limit.remaining).toBeGreaterThanOrEqual(0);
    expect(read?.rate_limit.reset_in).toBeGreaterThan(0);
  });

  it("gets LB's error back for a listen LB would refuse", async () => {
    await expect(client.submitListen({ listen_type: "single", payload: [{ listened_at: 5, track_metadata: { artist_name: "Air", track_name: "x" } }] }))
      .rejects.toMatch(/"error":"Value for key listened_at is too low/);
  });

  it("reads the import watermark", async () => {
    expect((await client.getLatestImport("alice"))?.data).toEqual({ musicbrainz_id: "alice", latest_import: 0 });
  });
});
