// Listens in Chromium (issue 18 points 5, 8): Alice's scrobbler submits a listen through /1/submit-listens;
// it is on her open statistics page (charts and figures) and history page within two seconds, and she
// deletes one there. What she plays now reaches Carol's statistics page and Alice's profile live, once
// Alice shares her listens with the instance, whether from a scrobbler or the web player.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { seedTracks } from "../helpers/factories.ts";
import { TestClient } from "../helpers/client.ts";
import { freePort } from "../helpers/ports.ts";
import { buildWebUi, findChromium, launchChromium, screenshot, signedInPage } from "./browser.ts";

const chromiumPath = findChromium();

/** A page signed in as the client's user; HTTP errors and page errors are collected. */
function pageOf(browser: Browser, client: TestClient, problems: string[]): Promise<Page> {
  return signedInPage(browser, client, { viewport: { width: 1280, height: 900 }, problems });
}

describe.skipIf(!chromiumPath)("listens, in Chromium", () => {
  let app: TestApp;
  let browser: Browser;
  const problems: string[] = [];
  let alice: TestClient;
  let carol: TestClient;
  let token: string;
  const submit = async (body: unknown) => {
    const res = await fetch(`${app.url}/1/submit-listens`, {
      method: "POST",
      headers: { Authorization: `Token ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    buildWebUi();
    const port = await freePort();
    app = await startTestApp({ env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` } });
    [alice, carol] = [new TestClient(app.url), new TestClient(app.url)];
    await Promise.all([alice.signup("alice"), carol.signup("carol")]);
    token = (await alice.post("/api/v1/me/listens/token", {})).body.token;
    const now = Math.floor(Date.now() / 1000);
    await submit({
      listen_type: "import",
      payload: [
        { listened_at: now - 3600, track_metadata: { artist_name: "Air", track_name: "Sexy Boy", release_name: "Moon Safari" } },
        { listened_at: now - 1800, track_metadata: { artist_name: "Air", track_name: "Cherry Blossom Girl", release_name: "Talkie Walkie" } },
      ],
    });
    browser = await launchChromium(chromiumPath!);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("shows a listen submitted through /1/ on the open statistics and history pages without a reload", async () => {
    const page = await pageOf(browser, alice, problems);
    await page.goto(`${app.url}/stats?range=all_time`);
    await page.getByRole("heading", { name: "Statistics" }).waitFor();
    await expect.poll(() => page.getByTestId("activity-total").textContent()).toBe("2 listens");

    const submitted = Date.now();
    await submit({ listen_type: "single", payload: [{ listened_at: Math.floor(submitted / 1000), track_metadata: { artist_name: "Kavinsky", track_name: "Nightcall", release_name: "OutRun" } }] });
    // No reload: the page hears of the new listen (event `listens`) and reads its statistics again.
    await page.getByText("Nightcall — Kavinsky: 1").waitFor({ state: "attached", timeout: 15_000 });
    await page.getByText("Kavinsky: 1").first().waitFor({ state: "attached", timeout: 15_000 });
    expect(await page.getByTestId("activity-total").textContent()).toBe("3 listens");
    // Activity, three top lists and the weekday x hour grid are drawn.
    expect(await page.locator("canvas").count()).toBe(5);
    // The range selector uses ListenBrainz's names; this week holds the listen just made.
    await page.getByTestId("stats-range").selectOption("this_week");
    await expect.poll(() => page.url()).toContain("range=this_week");
    await page.getByText("Nightcall — Kavinsky: 1").waitFor({ state: "attached" });
    await screenshot(page, "listens-statistics");
    await page.getByRole("region", { name: "Listening by weekday and hour" }).scrollIntoViewIfNeeded();
    await screenshot(page, "listens-heatmap");

    await page.getByRole("link", { name: "History" }).click();
    const rows = page.getByTestId("listen-row");
    await rows.first().getByText("Nightcall").waitFor({ timeout: 15_000 });
    expect(await rows.count()).toBe(3);
    await expect.poll(async () => (await rows.allTextContents()).map((t) => t.split("Air")[0]!.trim()).slice(1)).toEqual(["Cherry Blossom Girl", "Sexy Boy"]);
    // A listen arriving while the history is open shows at its top, live.
    const arrived = Date.now();
    await submit({ listen_type: "single", payload: [{ listened_at: Math.floor(arrived / 1000), track_metadata: { artist_name: "Justice", track_name: "D.A.N.C.E." } }] });
    await rows.first().getByText("D.A.N.C.E.").waitFor({ timeout: 15_000 });
    expect(await rows.count()).toBe(4);
  });

  it("deletes a listen from the history after confirmation; it leaves the statistics", async () => {
    const page = await pageOf(browser, alice, problems);
    await page.goto(`${app.url}/listens`);
    const rows = page.getByTestId("listen-row");
    await rows.first().waitFor();
    // Declined: nothing happens.
    page.once("dialog", (dialog) => void dialog.dismiss());
    await page.getByRole("button", { name: "Delete listen of Sexy Boy" }).click();
    expect(await rows.count()).toBe(4);
    page.once("dialog", (dialog) => {
      expect(dialog.message()).toContain("Sexy Boy");
      void dialog.accept();
    });
    await page.getByRole("button", { name: "Delete listen of Sexy Boy" }).click();
    await expect.poll(() => rows.count()).toBe(3);
    await page.reload();
    await rows.first().waitFor();
    expect(await rows.count()).toBe(3);
    expect(await page.getByText("Sexy Boy").count()).toBe(0);
    const top = await alice.get("/api/v1/people/alice/listen-stats/top?kind=recording&range=all_time");
    expect(top.body.entities.map((e: { name: string }) => e.name).sort()).toEqual(["Cherry Blossom Girl", "D.A.N.C.E.", "Nightcall"]);
  });

  it("pushes what Alice plays now to Carol's page, live, once Alice shares her listens", async () => {
    const carolPage = await pageOf(browser, carol, problems);
    await carolPage.goto(`${app.url}/stats`);
    const panel = carolPage.getByRole("region", { name: "Playing now" });
    await panel.getByText("Nobody is playing anything right now.").waitFor();
    // Private (the default): Carol hears nothing of it.
    await submit({ listen_type: "playing_now", payload: [{ track_metadata: { artist_name: "Daft Punk", track_name: "Digital Love" } }] });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await panel.getByText("Digital Love").count()).toBe(0);

    expect((await alice.request("PUT", "/api/v1/me/listens/privacy", { json: { privacy: "instance" } })).status).toBe(200);
    await submit({ listen_type: "playing_now", payload: [{ track_metadata: { artist_name: "Daft Punk", track_name: "Voyager", additional_info: { duration_ms: 4000 } } }] });
    await panel.getByText("Voyager").waitFor({ timeout: 3000 });
    await panel.getByRole("link", { name: "alice" }).waitFor();
    // It lapses after the track's duration.
    await panel.getByText("Voyager").waitFor({ state: "detached", timeout: 8000 });

    await submit({ listen_type: "playing_now", payload: [{ track_metadata: { artist_name: "Daft Punk", track_name: "Aerodynamic" } }] });
    await carolPage.goto(`${app.url}/people/alice`);
    await carolPage.getByTestId("person-now-playing").getByText("Aerodynamic").waitFor();
    await submit({ listen_type: "playing_now", payload: [{ track_metadata: { artist_name: "Daft Punk", track_name: "Harder, Better, Faster, Stronger" } }] });
    await carolPage.getByTestId("person-now-playing").getByText("Harder, Better, Faster, Stronger").waitFor({ timeout: 3000 });
    await screenshot(carolPage, "listens-now-playing-profile");
    // Her statistics, from her profile, now that she shares them.
    await carolPage.getByRole("link", { name: "Listening statistics" }).click();
    await carolPage.getByRole("heading", { name: "alice's statistics" }).waitFor();
    await carolPage.getByTestId("stats-range").selectOption("all_time");
    await carolPage.getByText("Cherry Blossom Girl — Air: 1").waitFor({ state: "attached" });
    expect(problems).toEqual([]);
  });

  it.skipIf(!hasFfmpeg())("the track Alice's web player plays is her now playing on Carol's page", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "polyphony-e2e-listens-"));
    try {
      const tags = { TITLE: "Tone Poem", ARTIST: "Sine Wave", ALBUM: "Test Tones" };
      const file = await makeAudio(dir, { name: "tone", format: "mp3", seconds: 20, tags });
      const library = (await alice.post("/api/v1/libraries", { name: "Tones", privacy: "instance" })).body.id;
      const [seeded] = await seedTracks(app, library, [{ name: "tone", tags, data: await readFile(file), seconds: 20 }]);
      const { rows } = await app.db.pool.query("SELECT album_id FROM track WHERE id = $1", [seeded!.trackId]);

      const carolPage = await pageOf(browser, carol, problems);
      await carolPage.goto(`${app.url}/stats`);
      const panel = carolPage.getByRole("region", { name: "Playing now" });
      await panel.waitFor();
      const alicePage = await pageOf(browser, alice, problems);
      await alicePage.goto(`${app.url}/albums/${rows[0].album_id}`);
      await alicePage.getByRole("button", { name: "▶ Play" }).click();
      await panel.getByText("Tone Poem").waitFor({ timeout: 5000 });
      await panel.getByText("by Sine Wave").waitFor();
      expect(problems).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
