import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";

// What ListenBrainz refuses, refused with its status and words (listenbrainz/webserver/views/api_tools.py).
describe("ListenBrainz submissions: limits and messages", () => {
  let app: TestApp;
  let token: string;
  const now = Math.floor(Date.now() / 1000);
  const post = async (body: unknown, auth: string | null = `Token ${token}`) => {
    const res = await fetch(`${app.url}/1/submit-listens`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(auth ? { Authorization: auth } : {}) },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  };
  const single = (listen: unknown) => post({ listen_type: "single", payload: [listen] });
  const meta = (over: Record<string, unknown> = {}, info?: Record<string, unknown>) =>
    ({ artist_name: "Air", track_name: "Sexy Boy", ...over, ...(info ? { additional_info: info } : {}) });
  const count = async () => (await app.db.pool.query("SELECT count(*)::int AS n FROM listen")).rows[0].n;

  beforeAll(async () => {
    app = await startTestApp();
    const client = new TestClient(app.url);
    await client.signup("alice");
    token = (await client.post("/api/v1/me/listens/token", {})).body.token;
  });
  afterAll(async () => {
    await app?.close();
  });

  it.each([
    ["no Authorization header", { listen_type: "single", payload: [] }, null, 401, "You need to provide an Authorization header."],
    ["a wrong token", { listen_type: "single", payload: [] }, "Token 0b1f6a0e-3d8e-4c4e-9f0e-000000000000", 401, "Invalid authorization token."],
    ["no listens", { listen_type: "import", payload: [] }, undefined, 400, "JSON document does not contain any listens"],
    ["a bad listen_type", { listen_type: "loud", payload: [{}] }, undefined, 400, "JSON document requires a valid listen_type key."],
    ["two listens as single", { listen_type: "single", payload: [{}, {}] }, undefined, 400,
      "JSON document contains more than listen for a single/playing_now. It should contain only one."],
    ["no JSON", "{oops", undefined, 400, undefined],
  ])("refuses %s", async (_what, body, auth, status, error) => {
    const res = await post(body, auth === undefined ? `Token ${token}` : auth);
    expect(res.status).toBe(status);
    expect(res.json.code).toBe(status);
    if (error) expect(res.json.error).toBe(error);
    else expect(res.json.error).toMatch(/^Cannot parse JSON document: /);
  });

  it("refuses more than 1000 listens, and a body past 10240 bytes a listen", async () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ listened_at: now - i, track_metadata: meta() }));
    expect(await post({ listen_type: "import", payload: many }))
      .toMatchObject({ status: 400, json: { error: "Too many listens. You may not submit more than 1000 listens at once." } });
    const big = { listened_at: now, track_metadata: meta({}, { comment: "x".repeat(11_000) }) };
    expect(await single(big)).toMatchObject({ status: 400, json: { error: "JSON document is too large. Each listens may not be larger than 10240 bytes." } });
  });

  it.each([
    ["a listened_at in the future", { listened_at: now + 7200, track_metadata: meta() }, "Value for key listened_at is too high."],
    ["a listened_at before 2002-10-01", { listened_at: 1033410599, track_metadata: meta() },
      "Value for key listened_at is too low. listened_at timestamp should be greater than 1033410600 (2002-10-01 00:00:00 UTC)."],
    ["no listened_at", { track_metadata: meta() }, "JSON document must contain the key listened_at at the top level."],
    ["a listened_at that is no int", { listened_at: "noon", track_metadata: meta() }, "JSON document must contain an int value for listened_at."],
    ["another top-level key", { listened_at: now, track_metadata: meta(), extra: 1 }, "JSON document may only contain listened_at and track_metadata top level keys"],
    ["no track name", { listened_at: now, track_metadata: { artist_name: "Air" } }, "JSON document does not contain required field track_metadata.track_name."],
    ["a blank artist", { listened_at: now, track_metadata: meta({ artist_name: "   " }) }, "field track_metadata.artist_name is empty."],
    ["an artist list", { listened_at: now, track_metadata: meta({ artist_name: ["Air"] }) }, "track_metadata.artist_name must be a single string."],
    ["51 tags", { listened_at: now, track_metadata: meta({}, { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }) },
      "JSON document may not contain more than 50 items in track_metadata.additional_info.tags."],
    ["a 65-character tag", { listened_at: now, track_metadata: meta({}, { tags: ["x".repeat(65)] }) },
      "JSON document may not contain track_metadata.additional_info.tags longer than 64 characters."],
    ["a negative duration", { listened_at: now, track_metadata: meta({}, { duration_ms: -5 }) }, "Value for duration_ms is invalid, should be a positive integer."],
    ["a 25-day duration", { listened_at: now, track_metadata: meta({}, { duration: 25 * 86400 }) }, "Value for duration is too large, max permitted value is 2073600"],
    ["both durations", { listened_at: now, track_metadata: meta({}, { duration: 1, duration_ms: 1000 }) }, "JSON document should not contain both duration and duration_ms."],
    ["a bad recording MBID", { listened_at: now, track_metadata: meta({}, { recording_mbid: "not-a-uuid" }) }, "recording_mbid MBID format invalid."],
    ["a bad artist MBID", { listened_at: now, track_metadata: meta({}, { artist_mbids: ["nope"] }) }, "artist_mbids MBID format invalid."],
    ["a U+0000", { listened_at: now, track_metadata: meta({ track_name: "Sexy\u0000Boy" }) }, 
      // LB's message, with the NUL written out (our errors never carry control characters).
      "Sexy\\x00Boy contains a unicode null"],
  ])("refuses %s with LB's message, keeping nothing", async (_what, listen, error) => {
    const before = await count();
    expect(await single(listen)).toEqual({ status: 400, json: { code: 400, error } });
    expect(await count()).toBe(before);
  });

  it("refuses listened_at in playing_now, and drops empty MBIDs as LB does", async () => {
    expect(await post({ listen_type: "playing_now", payload: [{ listened_at: now, track_metadata: meta() }] }))
      .toMatchObject({ status: 400, json: { error: "JSON document must not contain listened_at while submitting playing_now." } });
    expect((await single({ listened_at: now, track_metadata: meta({}, { recording_mbid: "", artist_mbids: [null, ""], duration: "240" }) })).status).toBe(200);
    const { rows } = await app.db.pool.query("SELECT recording_mbid, artist_mbids, track_duration_ms, additional_info FROM listen");
    expect(rows).toEqual([{ recording_mbid: null, artist_mbids: null, track_duration_ms: 240_000, additional_info: { duration: 240 } }]);
  });
});
