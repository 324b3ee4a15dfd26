import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";

// Listen privacy (issue 18 point 9): every /1/ read answers a listener the viewer may not read exactly
// as a name nobody has.
describe("listen privacy on the ListenBrainz API", () => {
  let app: TestApp;
  let alice: TestClient;
  let bobToken: string;
  const now = Math.floor(Date.now() / 1000);
  const READS = [
    "/user/NAME/listens",
    "/user/NAME/listen-count",
    "/user/NAME/playing-now",
    "/stats/user/NAME/artists",
    "/stats/user/NAME/recordings?range=this_week",
    "/stats/user/NAME/listening-activity",
    "/stats/user/NAME/daily-activity",
    "/latest-import?user_name=NAME",
  ];
  const read = async (path: string, auth: string | null) => {
    const res = await fetch(`${app.url}/1${path}`, { headers: auth ? { Authorization: `Token ${auth}` } : {} });
    return { status: res.status, json: await res.json() };
  };
  /** Every read of `name`'s listens, as `auth` sees it. */
  const reads = (name: string, auth: string | null) => Promise.all(READS.map((p) => read(p.replace("NAME", name), auth)));
  const setPrivacy = async (privacy: string) => expect((await alice.request("PUT", "/api/v1/me/listens/privacy", { json: { privacy } })).status).toBe(200);

  beforeAll(async () => {
    app = await startTestApp();
    alice = new TestClient(app.url);
    await alice.signup("alice");
    const aliceToken = (await alice.post("/api/v1/me/listens/token", {})).body.token;
    const bob = new TestClient(app.url);
    await bob.signup("bob");
    bobToken = (await bob.post("/api/v1/me/listens/token", {})).body.token;
    const res = await fetch(`${app.url}/1/submit-listens`, {
      method: "POST",
      headers: { Authorization: `Token ${aliceToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ listen_type: "single", payload: [{ listened_at: now - 60, track_metadata: { artist_name: "Air", track_name: "Sexy Boy" } }] }),
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await app?.close();
  });

  const hiddenLike = async (name: string, auth: string | null) => {
    for (const [i, res] of (await reads(name, auth)).entries()) {
      expect(res, READS[i]).toEqual({ status: 404, json: { code: 404, error: `Cannot find user: ${name}` } });
    }
  };
  const shown = async (name: string, auth: string | null) => {
    for (const [i, res] of (await reads(name, auth)).entries()) expect(res.status, READS[i]).toBe(200);
  };

  it("private (the default): others, signed in or not, get what a missing name gets", async () => {
    expect((await alice.get("/api/v1/me/listens/settings")).body.privacy).toBe("private");
    await hiddenLike("alice", bobToken);
    await hiddenLike("alice", null);
    await hiddenLike("nobody", bobToken);
    // The owner, by their session (the web UI), reads everything.
    const own = await alice.request("GET", "/1/user/alice/listen-count");
    expect(own.body).toEqual({ payload: { count: 1 } });
  });

  it("instance: people signed in here read them, anonymous callers do not", async () => {
    await setPrivacy("instance");
    await shown("alice", bobToken);
    await hiddenLike("alice", null);
  });

  it("public: anyone reads them", async () => {
    await setPrivacy("public");
    await shown("alice", null);
    expect((await read("/user/alice/listens", null)).json.payload.listens).toHaveLength(1);
  });

  it("refuses an unknown privacy with the API's error shape", async () => {
    const res = await alice.request("PUT", "/api/v1/me/listens/privacy", { json: { privacy: "friends" } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid");
  });

  it("sitewide statistics are for people signed in here", async () => {
    expect(await read("/stats/sitewide/artists", null)).toMatchObject({ status: 401 });
    expect((await read("/stats/sitewide/artists", bobToken)).json.payload.artists).toMatchObject([{ artist_name: "Air", listen_count: 1 }]);
  });
});
