// The audio feature dashboard in Chromium (issue 20 point 5): on seeded features, /analysis shows the
// analysed count and its four charts drawn, a superlative card opens its track, whose page shows the
// track's features; the album page has its panel; a phone-wide screen in the dark theme scrolls no sideways.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { seedFeatures } from "../helpers/analysis.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { freePort } from "../helpers/ports.ts";
import { buildWebUi, findChromium, launchChromium, screenshot, signedInPage } from "./browser.ts";

const chromiumPath = findChromium();

describe.skipIf(!chromiumPath)("audio feature dashboard, in Chromium", () => {
  let app: TestApp;
  let browser: Browser;
  let alice: TestClient;
  const problems: string[] = [];
  const tracks: string[] = [];

  function pageOf(viewport = { width: 1280, height: 900 }): Promise<Page> {
    return signedInPage(browser, alice, { viewport, problems });
  }

  beforeAll(async () => {
    buildWebUi();
    const port = await freePort();
    app = await startTestApp({ env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` } });
    alice = new TestClient(app.url);
    await alice.signup("alice");
    const library = (await alice.post("/api/v1/libraries", { name: "Records", privacy: "private" })).body.id;
    const seeded = await seedTracks(app, library, ["Slow Burn", "Midtempo", "Sprint"].map((title, i) => ({
      tags: { TITLE: title, ARTIST: "Tempo Test", ALBUM: i < 2 ? "Gears" : "Later", DATE: i < 2 ? "1995" : "2015" },
    })));
    tracks.push(...seeded.map((s) => s.trackId));
    const features = [
      { tempoBpm: 70, loudnessLufs: -18, energy: 0.2, danceability: 0.3, dynamicComplexity: 6, keyTonic: "D" as const, keyMode: "minor" as const },
      { tempoBpm: 110, loudnessLufs: -12, energy: 0.5, danceability: 0.6, dynamicComplexity: 4, keyTonic: "G" as const, keyMode: "major" as const },
      { tempoBpm: 174, loudnessLufs: -7, energy: 0.9, danceability: 0.7, dynamicComplexity: 2, keyTonic: "F#" as const, keyMode: "minor" as const },
    ];
    for (const [i, f] of features.entries()) await seedFeatures(app.db.pool, tracks[i]!, f);
    browser = await launchChromium(chromiumPath!);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("draws the collection's charts, and a superlative card opens its track with its features", async () => {
    const page = await pageOf();
    await page.goto(`${app.url}/analysis`);
    await page.getByRole("heading", { name: "Audio features of your collection" }).waitFor();
    expect(await page.getByTestId("analysed-count").textContent()).toBe("3 of 3 tracks analysed");
    for (const chart of ["tempo-chart", "key-chart", "loudness-chart", "scatter-chart"]) {
      const canvas = page.getByTestId(chart).locator("canvas");
      await canvas.waitFor();
      // Drawn: Chart.js sized the canvas and painted something other than transparent pixels.
      const painted = await canvas.evaluate((c: HTMLCanvasElement) => {
        const pixels = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
        return c.width > 100 && c.height > 100 && pixels.some((v, i) => i % 4 === 3 && v > 0);
      });
      expect([chart, painted]).toEqual([chart, true]);
    }
    expect(await page.getByTestId("feature-tempo").textContent()).toContain("118 BPM");
    const fastest = page.getByTestId("superlative-fastest");
    expect(await fastest.textContent()).toContain("Sprint");
    expect(await fastest.textContent()).toContain("174 BPM");
    await screenshot(page, "analysis-dashboard");

    await fastest.click();
    await page.waitForURL(`**/tracks/${tracks[2]}`);
    await page.getByRole("heading", { name: "Sprint" }).waitFor();
    const panel = page.getByTestId("track-features");
    await panel.getByText("174 BPM").waitFor();
    expect(await panel.textContent()).toContain("F# minor");
    expect(problems).toEqual([]);
  });

  it("shows an album's features on its page, and fits a phone in the dark theme", async () => {
    const { rows } = await app.db.pool.query("SELECT album_id FROM track WHERE id = $1", [tracks[0]]);
    const page = await pageOf({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto(`${app.url}/albums/${rows[0].album_id}`);
    const panel = page.getByTestId("scope-features");
    await panel.getByText("2 of 2 tracks analysed").waitFor();
    await panel.getByRole("link", { name: "All audio features" }).click();
    await page.getByRole("heading", { name: "Audio features of Gears" }).waitFor();
    await page.getByTestId("scatter-chart").locator("canvas").waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe("rgb(17, 17, 20)"); // the dark theme's --bg
    await screenshot(page, "analysis-dashboard-phone-dark");
    expect(problems).toEqual([]);
  });
});
