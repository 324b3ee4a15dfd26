// A smart playlist made in Chromium: alice fills in the rules form (tempo range, mode, sort), lands on
// the new playlist with exactly the tracks her rules admit in their order, plays it, edits its rules, and
// opens "More like this" from a track's menu.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { seedFeatures } from "../helpers/analysis.ts";
import { buildWebUi, findChromium, launchChromium, screenshot, signedInPage } from "./browser.ts";

const chromiumPath = hasFfmpeg() ? findChromium() : undefined;

describe.skipIf(!chromiumPath)("smart playlists in Chromium", () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let dir: string;
  const problems: string[] = [];
  const titles = () => page.locator("[data-testid=playlist-items] .title").allInnerTexts();

  beforeAll(async () => {
    buildWebUi();
    dir = await mkdtemp(path.join(os.tmpdir(), "polyphony-e2e-smart-"));
    app = await startTestApp();
    const alice = new TestClient(app.url);
    await alice.signup("alice");
    const library = (await alice.post("/api/v1/libraries", { name: "Records" })).body.id;
    const songs: [string, number, "major" | "minor"][] = [
      ["Amble", 90, "minor"],
      ["Canter", 128, "minor"],
      ["Gallop", 150, "major"],
      ["Sprint", 140, "minor"],
    ];
    // Files of different lengths: the same bytes twice would be one upload.
    const audio = await Promise.all(songs.map(([name], i) => makeAudio(dir, { name, format: "mp3", seconds: 20 + i }).then((f) => readFile(f))));
    const seeded = await seedTracks(app, library, songs.map(([TITLE], i) => ({ tags: { TITLE, ARTIST: "Horses", ALBUM: "Gaits" }, data: audio[i], seconds: 20 + i })));
    for (const [i, [, tempoBpm, keyMode]] of songs.entries()) {
      await seedFeatures(app.db.pool, seeded[i]!.trackId, { tempoBpm, keyTonic: "A", keyMode, energy: tempoBpm / 200, danceability: 0.5, loudnessLufs: -12 });
    }
    browser = await launchChromium(chromiumPath!);
    // A cover the albums here do not have answers 404, as it should: only server errors are problems.
    page = await signedInPage(browser, alice, { viewport: { width: 1280, height: 900 }, problems, serverErrorsOnly: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("creates one from the rules form and shows, then plays, exactly its tracks", async () => {
    await page.goto(new URL("/playlists", app.url).href);
    await page.getByRole("button", { name: "New smart playlist…" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Brisk minor");
    await page.getByLabel("Tempo from").fill("120");
    await page.getByLabel("Tempo to").fill("160");
    await page.getByLabel("Mode").selectOption("minor");
    await page.getByLabel("Sort by").selectOption("tempo");
    await page.getByLabel("Order").selectOption("desc");
    await screenshot(page, "smart-playlist-form");
    await page.getByRole("button", { name: "Create smart playlist" }).click();

    await page.getByRole("heading", { name: "Brisk minor" }).waitFor();
    await page.getByText("Smart", { exact: true }).waitFor();
    await page.locator("[data-testid=playlist-items] .title").first().waitFor();
    expect(await titles()).toEqual(["Sprint", "Canter"]);
    expect(await page.getByTestId("smart-rules").innerText()).toBe("Tempo 120–160 BPM · minor · by tempo, descending · at most 100");
    // Its items follow its rules: no reordering or removing by hand.
    expect(await page.getByRole("button", { name: "Remove Sprint" }).count()).toBe(0);
    await screenshot(page, "smart-playlist");

    const stream = page.waitForResponse((r) => /\/api\/v1\/(tracks|uploads)\/[^/]+\/stream/.test(r.url()));
    await page.getByRole("button", { name: "▶ Play" }).click();
    expect((await stream).status()).toBeLessThan(300);
    await page.getByTestId("now-playing").getByText("Sprint").waitFor();
    await page.evaluate(() => document.querySelector<HTMLAudioElement>("audio[data-player=active]")?.pause());
  }, 60_000);

  it("edits its rules and shows the new list", async () => {
    await page.getByRole("button", { name: "Edit rules" }).click();
    await expect(page.getByLabel("Tempo from").inputValue()).resolves.toBe("120");
    await page.getByLabel("Tempo from").fill("");
    await page.getByLabel("Mode").selectOption("");
    await page.getByLabel("Sort by").selectOption("tempo");
    await page.getByLabel("Order").selectOption("asc");
    await page.getByRole("button", { name: "Save rules" }).click();
    await page.locator("[data-testid=playlist-items] .title", { hasText: "Amble" }).waitFor();
    expect(await titles()).toEqual(["Amble", "Canter", "Sprint", "Gallop"]);
    expect((await app.db.pool.query("SELECT rules FROM playlist WHERE name = 'Brisk minor'")).rows[0].rules).toMatchObject({
      tempo: { max: 160 },
      sort: { by: "tempo", order: "asc" },
    });
  }, 60_000);

  it("opens “More like this” from a track's menu, nearest first", async () => {
    await page.goto(new URL("/tracks", app.url).href);
    await page.getByRole("button", { name: "More for Canter" }).click();
    await page.getByRole("menuitem", { name: "More like this" }).click();
    await page.getByRole("heading", { name: "More like Canter" }).waitFor();
    await page.locator(".track-list .title").first().waitFor();
    expect(await page.locator(".track-list .title").allInnerTexts()).toEqual(["Sprint", "Gallop", "Amble"]);
    await page.getByRole("button", { name: "Save as playlist" }).click();
    await page.getByRole("heading", { name: "More like Canter" }).waitFor();
    await page.locator("[data-testid=playlist-items] .title").first().waitFor();
    expect(await titles()).toEqual(["Canter", "Sprint", "Gallop", "Amble"]);
    expect(problems).toEqual([]);
  }, 60_000);
});
