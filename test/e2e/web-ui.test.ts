// The web UI end to end in Debian's Chromium against the real server and worker: sign up, upload (drag and drop
// and the file picker) with live import status, play, a playlist reordered, search with a typo, log out and in.
// Screenshots of the main pages go to test-results/screenshots/.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio, makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { PASSWORD } from "../helpers/client.ts";
import { buildWebUi, dropFiles, findChromium, launchChromium, screenshot } from "./browser.ts";

const chromiumPath = hasFfmpeg() ? findChromium() : undefined;
const USERNAME = "ada";

describe.skipIf(!chromiumPath)("web UI in Chromium", () => {
  let app: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let dir: string;
  const files: Record<string, { name: string; type: string; data: Buffer }> = {};
  let libraryId: string;

  const go = (pathname: string) => page.goto(new URL(pathname, app.url).href);
  const activeAudio = () =>
    page.evaluate(() => {
      const audio = document.querySelector<HTMLAudioElement>("audio[data-player=active]");
      return audio && { paused: audio.paused, currentTime: audio.currentTime, src: audio.src };
    });
  const playlistTitles = () => page.locator("[data-testid=playlist-items] .title").allInnerTexts();

  beforeAll(async () => {
    buildWebUi();
    dir = await mkdtemp(path.join(os.tmpdir(), "polyphony-e2e-"));
    const cover = await makeCoverImage(300, 300, "jpeg");
    const album = { ALBUM: "Weather Songs", ALBUMARTIST: "The Quiet Ones", ARTIST: "The Quiet Ones", DATE: "2021", GENRE: "Ambient" };
    for (const [key, title, number] of [["storm", "Thunderstorm Lullaby", "1"], ["morning", "Morning Drizzle", "2"]] as const) {
      const file = await makeAudio(dir, { name: key, format: "mp3", seconds: 30, tags: { ...album, TITLE: title, TRACKNUMBER: number }, cover });
      files[key] = { name: `${key}.mp3`, type: "audio/mpeg", data: await readFile(file) };
    }
    files.broken = { name: "broken.mp3", type: "audio/mpeg", data: Buffer.from("this is not audio at all ".repeat(200)) };
    app = await startTestApp({ worker: true });
    browser = await launchChromium(chromiumPath!);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on("console", (m) => m.type() === "error" && console.log("[browser]", m.text()));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("signs up and lands on the home page", async () => {
    await go("/");
    await page.waitForURL("**/login");
    await page.getByRole("link", { name: "Sign up" }).click();
    // The sign-up page is a lazy chunk: until it shows, "Username" is still the login form's field.
    await page.getByRole("heading", { name: "Create an account" }).waitFor();
    await page.getByLabel("Username").fill(USERNAME);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.waitForURL(new URL("/", app.url).href);
    await expect(page.getByRole("heading", { name: "Home", level: 1 }).isVisible()).resolves.toBe(true);
    await page.getByText("No music yet").waitFor();
  }, 90_000);

  it("uploads by drag and drop and with the file picker; import status and errors arrive live", async () => {
    await go("/libraries");
    await page.getByLabel("Name").fill("My music");
    await page.getByRole("button", { name: "Create library" }).click();
    await page.waitForURL("**/libraries/*");
    libraryId = page.url().split("/").pop()!;
    await page.getByText("Nothing uploaded yet").waitFor();

    // After the uploads, no request re-reads the upload list: the status changes come from the event stream.
    const uploadListReads: string[] = [];
    page.on("request", (request) => request.url().includes("/api/v1/uploads") && uploadListReads.push(request.url()));

    await dropFiles(page, "[data-testid=dropzone]", [files.storm!, files.broken!]);
    await page.locator("#upload-input").setInputFiles({ name: files.morning!.name, mimeType: "audio/mpeg", buffer: files.morning!.data });

    const row = (name: string) => page.locator("tr", { hasText: name });
    await row("storm.mp3").locator("text=Imported").waitFor({ timeout: 60_000 });
    await row("morning.mp3").locator("text=Imported").waitFor({ timeout: 60_000 });
    await row("broken.mp3").locator("text=Failed").waitFor({ timeout: 60_000 });
    const reason = await row("broken.mp3").locator(".reason").innerText();
    expect(reason.length).toBeGreaterThan(10);
    const { rows } = await app.db.pool.query("SELECT error_message FROM upload WHERE original_name = 'broken.mp3'");
    expect(reason).toContain(rows[0].error_message);
    expect(await page.locator("progress").evaluateAll((bars) => bars.map((b) => (b as HTMLProgressElement).value))).toEqual([1, 1, 1]);
    expect(uploadListReads).toEqual([]);
    await screenshot(page, "libraries");

    // New music shows up on the home page.
    await go("/");
    await page.getByRole("link", { name: /Weather Songs/ }).first().waitFor();
    await screenshot(page, "home");
  }, 150_000);

  it("plays the album: the audio element plays and time advances, the preloaded next track takes over; queue and position survive a reload", async () => {
    await page.getByRole("link", { name: /Weather Songs/ }).first().click();
    await page.waitForURL("**/albums/*");
    await page.getByRole("heading", { name: "Weather Songs" }).waitFor();
    await screenshot(page, "album");
    await page.getByRole("button", { name: "▶ Play" }).click();

    await page.waitForFunction(() => {
      const audio = document.querySelector<HTMLAudioElement>("audio[data-player=active]");
      return audio && !audio.paused && audio.currentTime > 0.5;
    });
    const first = (await activeAudio())!;
    expect(first.paused).toBe(false);
    expect(first.src).toMatch(/\/api\/v1\/tracks\/[0-9a-f-]{36}\/stream$/);
    await page.waitForFunction((t) => document.querySelector<HTMLAudioElement>("audio[data-player=active]")!.currentTime > t + 1, first.currentTime);
    expect((await activeAudio())!.currentTime).toBeGreaterThan(first.currentTime);
    await expect(page.getByTestId("now-playing").innerText()).resolves.toBe("Thunderstorm Lullaby");

    // The next track waits preloaded in the standby element, which takes over when this one ends.
    const second = (await app.db.pool.query("SELECT id FROM track WHERE title = 'Morning Drizzle'")).rows[0].id;
    const standby = () => page.locator("audio[data-player=standby]").evaluate((a: HTMLAudioElement) => a.src);
    await expect.poll(standby).toContain(`/api/v1/tracks/${second}/stream`);
    await page.locator("audio[data-player=standby]").evaluate((a) => (a.dataset.marker = "preloaded"));
    // Keyboard: → seeks 10 s ahead (three times: past the end); space pauses.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowRight");
    await page.getByTestId("now-playing").getByText("Morning Drizzle").waitFor();
    await page.waitForFunction(() => {
      const audio = document.querySelector<HTMLAudioElement>("audio[data-player=active]")!;
      return audio.dataset.marker === "preloaded" && !audio.paused && audio.currentTime > 0.5;
    });
    await page.keyboard.press(" ");
    await page.waitForFunction(() => document.querySelector<HTMLAudioElement>("audio[data-player=active]")!.paused);
    const position = (await activeAudio())!.currentTime;

    await page.reload();
    await expect(page.getByTestId("now-playing").innerText()).resolves.toBe("Morning Drizzle");
    await page.waitForFunction((p) => Math.abs(document.querySelector<HTMLAudioElement>("audio[data-player=active]")!.currentTime - p) < 1, position);
    const saved = await page.evaluate(() => JSON.parse(localStorage.getItem("polyphony.player")!));
    expect(saved.entries.map((e: { track: { title: string } }) => e.track.title)).toEqual(["Thunderstorm Lullaby", "Morning Drizzle"]);
  }, 90_000);

  it("hands over to the preloaded next track just before the current one ends, not after", async () => {
    await go("/albums");
    await page.locator("main").getByRole("link", { name: /Weather Songs/ }).first().click();
    await page.getByRole("heading", { name: "Weather Songs" }).waitFor();
    await page.getByRole("button", { name: "▶ Play" }).click();
    await page.getByTestId("now-playing").getByText("Thunderstorm Lullaby").waitFor();
    await page.waitForFunction(() => {
      const active = document.querySelector<HTMLAudioElement>("audio[data-player=active]");
      const standby = document.querySelector<HTMLAudioElement>("audio[data-player=standby]");
      return active && !active.paused && active.currentTime > 0.2 && standby && standby.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA;
    });
    await page.locator("audio[data-player=active]").evaluate((a: HTMLAudioElement) => {
      a.dataset.marker = "first";
      a.currentTime = a.duration - 0.6;
    });
    await page.getByTestId("now-playing").getByText("Morning Drizzle").waitFor();
    // The first track was stopped a moment short of its end: the second did not wait for its `ended`.
    const first = await page.locator("audio[data-marker=first]").evaluate((a: HTMLAudioElement) => ({
      ended: a.ended, player: a.dataset.player, left: a.duration - a.currentTime,
    }));
    expect(first).toMatchObject({ ended: false, player: "standby" });
    expect(first.left).toBeGreaterThan(0);
    expect(first.left).toBeLessThan(0.3);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press(" ");
    await page.waitForFunction(() => document.querySelector<HTMLAudioElement>("audio[data-player=active]")!.paused);
  }, 60_000);

  it("builds a playlist from track menus and reorders it by buttons and by dragging", async () => {
    await go("/playlists");
    await page.getByLabel("New playlist name").fill("Road trip");
    await page.getByRole("button", { name: "Create playlist" }).click();
    await page.waitForURL("**/playlists/*");
    const playlistId = page.url().split("/").pop()!;

    const album = (await app.db.pool.query("SELECT id FROM album WHERE title = 'Weather Songs'")).rows[0].id;
    await go(`/albums/${album}`);
    const itemCount = async () =>
      (await app.db.pool.query("SELECT count(*)::int AS n FROM playlist_item WHERE playlist_id = $1", [playlistId])).rows[0].n;
    for (const [i, title] of ["Thunderstorm Lullaby", "Morning Drizzle"].entries()) {
      await page.getByRole("button", { name: `More for ${title}` }).click();
      await page.getByRole("menuitem", { name: "Add to playlist…" }).click();
      await page.getByRole("menuitem", { name: "Road trip" }).click();
      await page.getByText("Added to Road trip").first().waitFor();
      await expect.poll(itemCount).toBe(i + 1);
    }

    await go(`/playlists/${playlistId}`);
    await page.getByRole("heading", { name: "Road trip" }).waitFor();
    expect(await playlistTitles()).toEqual(["Thunderstorm Lullaby", "Morning Drizzle"]);

    const serverOrder = async () =>
      (await app.db.pool.query("SELECT title FROM playlist_item WHERE playlist_id = $1 ORDER BY position", [playlistId])).rows.map((r) => r.title);
    await page.getByRole("button", { name: "Move Morning Drizzle up" }).click();
    await expect.poll(playlistTitles).toEqual(["Morning Drizzle", "Thunderstorm Lullaby"]);
    await expect.poll(serverOrder).toEqual(["Morning Drizzle", "Thunderstorm Lullaby"]);

    await page.dragAndDrop("[data-testid=playlist-items] li:nth-child(2)", "[data-testid=playlist-items] li:nth-child(1)");
    await expect.poll(serverOrder).toEqual(["Thunderstorm Lullaby", "Morning Drizzle"]);
    await page.reload();
    await page.getByRole("heading", { name: "Road trip" }).waitFor();
    expect(await playlistTitles()).toEqual(["Thunderstorm Lullaby", "Morning Drizzle"]);
    await screenshot(page, "playlist");
  }, 90_000);

  it("searches as you type and forgives a typo", async () => {
    await go("/");
    await page.getByRole("searchbox").pressSequentially("thunderstrom lulaby", { delay: 20 });
    await page.waitForURL(/\/search\?q=/);
    const hit = page.getByRole("button", { name: "Play Thunderstorm Lullaby" });
    await hit.waitFor();
    await expect(page.getByRole("heading", { name: "Tracks" }).isVisible()).resolves.toBe(true);
    await screenshot(page, "search");
  }, 90_000);

  it("shows the other main pages (screenshots), at phone width and in the dark theme", async () => {
    await go("/albums");
    await page.locator("main").getByRole("link", { name: /Weather Songs/ }).waitFor();
    await screenshot(page, "albums");

    await go("/settings");
    await page.getByLabel("Subsonic password").waitFor();
    await expect(page.getByLabel("Server URL").inputValue()).resolves.toBe(new URL(app.url).origin);
    await screenshot(page, "settings");

    await go("/admin");
    await page.getByRole("heading", { name: "Job queue" }).waitFor();
    await page.getByRole("cell", { name: USERNAME }).first().waitFor();
    await screenshot(page, "admin");

    await go("/tracks");
    await page.getByRole("button", { name: "Play Morning Drizzle" }).waitFor();
    await screenshot(page, "tracks");

    await page.getByRole("button", { name: "Dark theme" }).click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe("rgb(17, 17, 20)");
    await go("/");
    await page.getByRole("link", { name: /Weather Songs/ }).first().waitFor();
    await screenshot(page, "home-dark");

    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(new URL(`/libraries/${libraryId}`, app.url).href);
    await phone.getByText("Drop audio files here").waitFor();
    expect(await phone.getByRole("navigation", { name: "Main" }).isVisible()).toBe(false);
    await phone.getByRole("button", { name: "Menu" }).click();
    await phone.getByRole("link", { name: "Albums" }).click();
    await phone.waitForURL("**/albums");
    await phone.getByRole("navigation", { name: "Main" }).waitFor({ state: "hidden" });
    await phone.locator("main").getByRole("link", { name: /Weather Songs/ }).waitFor();
    await screenshot(phone, "phone-albums");
    // No horizontal scrolling at phone width.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await phone.close();
  }, 90_000);

  it("logs out and back in", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL("**/login");
    await go("/playlists");
    await page.waitForURL(/\/login\?next=%2Fplaylists$|\/login\?next=\/playlists$/);
    await page.getByLabel("Username").fill(USERNAME);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL("**/playlists");
    await page.getByRole("link", { name: "Road trip" }).waitFor();
    expect(await page.locator(".top-bar .user").innerText()).toBe(USERNAME);
  }, 90_000);
});
