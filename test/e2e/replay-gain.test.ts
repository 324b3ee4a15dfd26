// ReplayGain and audio analysis in the web UI (issue 20), in Chromium against the real server and worker: the
// library page shows the analysis and starts a run; the settings choose off / track / album, and the player
// applies the track's gain computed from the measured loudness while it plays.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";
import { waitUntil } from "../helpers/wait.ts";
import { buildWebUi, findChromium, launchChromium, signedInPage } from "./browser.ts";

const chromiumPath = hasFfmpeg() ? findChromium() : undefined;

describe.skipIf(!chromiumPath)("ReplayGain in the web UI", () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let dir: string;
  let libraryId: string;
  let albumId: string;
  let loudness: number;

  const go = (pathname: string) => page.goto(new URL(pathname, app.url).href);
  const appliedGain = () => page.locator("audio[data-player=active]").getAttribute("data-replay-gain");

  beforeAll(async () => {
    buildWebUi();
    dir = await mkdtemp(path.join(os.tmpdir(), "replay-gain-e2e-"));
    app = await startTestApp({ worker: true });
    const client = new TestClient(app.url);
    await client.signup("levels");
    libraryId = (await client.post("/api/v1/libraries", { name: "Levels" })).body.id;
    const file = await makeAudio(dir, { name: "hum", format: "mp3", seconds: 20, tags: { ALBUM: "Mains", ARTIST: "Hum", TITLE: "Hum" } });
    await client.upload(`/api/v1/libraries/${libraryId}/uploads`, [{ name: "hum.mp3", data: await readFile(file) }]);
    await waitForImports(app.db.pool, libraryId);
    const row = await waitUntil(async () => (await app.db.pool.query(
      "SELECT ta.loudness_lufs, t.album_id FROM track_analysis ta JOIN track t ON t.id = ta.track_id WHERE ta.status = 'done'",
    )).rows[0], { timeout: 60_000, what: "the track's analysis" });
    loudness = row.loudness_lufs;
    albumId = row.album_id;
    browser = await launchChromium(chromiumPath!);
    page = await signedInPage(browser, client, { timeoutMs: 30_000 });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("shows the library's analysis and runs one for what is missing", async () => {
    await go(`/libraries/${libraryId}`);
    const section = page.getByTestId("analysis-progress");
    await section.getByText("1 of 1 tracks analysed").waitFor();
    await section.getByRole("button", { name: "Analyse what is missing" }).click();
    // Nothing is missing: the run ends at once with nothing to do.
    await section.getByText("Last run: 0/0 tracks").waitFor();
    const { rows } = await app.db.pool.query("SELECT prepared_at FROM analysis_run WHERE library_id = $1", [libraryId]);
    expect(rows).toEqual([{ prepared_at: expect.anything() }]);
  }, 60_000);

  it("applies the track's computed gain once ReplayGain is on, and none when it is off", async () => {
    await go("/settings");
    const setting = page.getByLabel("ReplayGain");
    await expect(setting.inputValue()).resolves.toBe("off");
    await setting.selectOption("track");
    await expect(page.evaluate(() => localStorage.getItem("polyphony.replayGain"))).resolves.toBe("track");

    await go(`/albums/${albumId}`);
    await page.getByRole("button", { name: "▶ Play" }).click();
    await page.waitForFunction(() => document.querySelector<HTMLAudioElement>("audio[data-player=active]")!.currentTime > 1);
    // -18 LUFS is the reference; the tone's peak is far below full scale, so nothing is held back.
    await page.waitForFunction(() => document.querySelector("audio[data-player=active]")!.hasAttribute("data-replay-gain"));
    expect(Number(await appliedGain())).toBeCloseTo(-18 - loudness, 1);
    expect(Number(await appliedGain())).toBeGreaterThan(1);
    const factor = () => page.locator("audio[data-player=active]").getAttribute("data-gain-factor");
    await page.waitForFunction(() => document.querySelector("audio[data-player=active]")!.hasAttribute("data-gain-factor"));
    expect(Number(await factor())).toBeCloseTo(10 ** ((-18 - loudness) / 20), 2);

    // Off in the settings (the page's own navigation: the player keeps playing): no gain.
    await page.getByRole("link", { name: "Settings" }).first().click();
    await page.getByLabel("ReplayGain").selectOption("off");
    await page.waitForFunction(() => document.querySelector("audio[data-player=active]")!.getAttribute("data-replay-gain") === "0");
    expect(Number(await factor())).toBe(1);
    const playing = await page.evaluate(() => !document.querySelector<HTMLAudioElement>("audio[data-player=active]")!.paused);
    expect(playing).toBe(true);
  }, 90_000);
});
