import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAnalysisFixture } from "../../bench/analysis-fixtures.ts";
import { loadCatalogFixture } from "../../bench/catalog-fixtures.ts";
import { POINT_SAMPLE } from "../../core/analysis/analysis-stats.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";

// The energy/danceability sample of a big library, merged from its cells (migrations 0029, 0032):
// 3,000 tracks spread over 32 buckets, so the 500 points come from several of the lowest ones, read
// apart from the cells' other stats. They must be exactly the 500 lowest ranks of the whole library.
const TRACKS = 3000;

describe("feature aggregates: the sampled points of a library", () => {
  let app: TestApp;
  let alice: TestClient;
  let library: string;

  /** What the sample must be: the analysed points with the lowest hashes of their track id. */
  const expected = async () => (await app.db.pool.query<{ id: string }>(
    `SELECT track_id AS id FROM track_analysis WHERE status = 'done' AND energy IS NOT NULL AND danceability IS NOT NULL
     ORDER BY hashtext(track_id::text), track_id::text LIMIT ${POINT_SAMPLE}`)).rows.map((r) => r.id);

  beforeAll(async () => {
    app = await startTestApp();
    alice = new TestClient(app.url);
    await alice.signup("alice");
    library = (await alice.post("/api/v1/libraries", { name: "Big", privacy: "private" })).body.id;
    await loadCatalogFixture(app.db.pool, library, TRACKS);
    await loadAnalysisFixture(app.db.pool, TRACKS);
  });
  afterAll(async () => {
    await app?.close();
  });

  it("merges the cells' samples into the sample of the whole library, and follows a change", async () => {
    const { body } = await alice.get(`/api/v1/libraries/${library}/analysis`);
    expect(body.analysed).toBe(TRACKS - TRACKS / 50); // the fixture fails one track in fifty
    expect(body.points.sampled).toBe(true);
    expect(body.points.items.map((p: { id: string }) => p.id)).toEqual(await expected());
    const cells = await app.db.pool.query("SELECT count(*)::int AS n FROM analysis_cell WHERE library_ids = ARRAY[$1::uuid]", [library]);
    expect(cells.rows[0].n).toBe(32);

    // The lowest-ranked point loses its energy: the next rank moves into the sample, from whichever cell holds it.
    const [first] = await expected();
    await app.db.pool.query("UPDATE track_analysis SET energy = NULL WHERE track_id = $1", [first]);
    const after = (await alice.get("/api/v1/analysis/collection")).body.points.items.map((p: { id: string }) => p.id);
    expect(after).toEqual(await expected());
    expect(after).not.toContain(first);
  });
});
