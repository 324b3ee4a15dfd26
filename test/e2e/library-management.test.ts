// Library management in Chromium: the logged-out landing page is clean (no failed request, no console
// error); an administrator sets a library's music folder and scans it with live progress; failed imports
// show first with their reasons and can be retried or deleted, and a scan that cannot read the folder says why;
// every page fits a phone's width.
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { buildWebUi, findChromium, launchChromium, screenshot } from "./browser.ts";
import { waitUntil } from "../helpers/wait.ts";

const chromiumPath = hasFfmpeg() ? findChromium() : undefined;

/** Console errors, failed requests and HTTP errors a page met, as readable lines. */
function recordProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (r) => problems.push(`failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`));
  return problems;
}

describe.skipIf(!chromiumPath)("library management in Chromium", () => {
  let app: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let music: string;
  let admin: TestClient;
  let libraryId: string;

  const go = (target: Page, pathname: string) => target.goto(new URL(pathname, app.url).href);
  const row = (name: string) => page.locator("tr", { hasText: name });
  const count = (status: string) => page.locator(`[data-count=${status}] strong`).innerText();

  beforeAll(async () => {
    buildWebUi();
    music = await mkdtemp(path.join(os.tmpdir(), "polyphony-e2e-music-"));
    const album = { ALBUM: "Field Recordings", ALBUMARTIST: "Rain", ARTIST: "Rain" };
    for (const [i, title] of ["Drizzle", "Downpour", "After the storm, a very long title that wraps on a phone"].entries()) {
      await makeAudio(music, { name: `0${i + 1} ${title}`, format: "mp3", tags: { ...album, TITLE: title, TRACKNUMBER: String(i + 1) } });
    }
    await writeFile(path.join(music, "broken.mp3"), "these are liner notes, not music\n".repeat(60));
    await writeFile(path.join(music, "empty.flac"), "");
    app = await startTestApp({ worker: true });
    admin = new TestClient(app.url);
    await admin.signup("curator");
    browser = await launchChromium(chromiumPath!);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const [name, value] = admin.cookie!.split("=") as [string, string];
    await context.addCookies([{ name, value, url: app.url }]);
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on("console", (m) => m.type() === "error" && console.log("[browser]", m.text()));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (music) await rm(music, { recursive: true, force: true });
  });

  it("shows the logged-out landing page without a failed request or a console error", async () => {
    const visitorContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const visitor = await visitorContext.newPage();
    const problems = recordProblems(visitor);
    await go(visitor, "/");
    await visitor.waitForURL("**/login");
    await visitor.getByRole("button", { name: "Log in" }).waitFor();
    await visitor.waitForLoadState("networkidle");
    await go(visitor, "/signup");
    await visitor.getByRole("heading", { name: "Create an account" }).waitFor();
    await visitor.waitForLoadState("networkidle");
    await screenshot(visitor, "landing-logged-out");
    expect(problems).toEqual([]);
    await visitorContext.close();
  }, 60_000);

  it("lets an administrator set a library's music folder and scan it, with the progress arriving live", async () => {
    await go(page, "/libraries");
    await page.getByLabel("Name").fill("Folder music");
    await page.getByRole("button", { name: "Create library" }).click();
    await page.waitForURL("**/libraries/*");
    libraryId = page.url().split("/").pop()!;
    await page.getByText("Nothing uploaded yet").waitFor();

    const folder = page.getByLabel("Folder on the server");
    await folder.fill("music/relative");
    await page.getByRole("button", { name: "Save folder" }).click();
    await page.getByRole("alert").getByText("The music folder must be an absolute path").waitFor();
    await folder.fill(music);
    await page.getByRole("button", { name: "Save folder" }).click();
    await page.getByText(`Music folder set to ${music}`).waitFor();
    await page.getByRole("alert").waitFor({ state: "detached" });

    // Every state the progress shows, from the click to the end, without reloading the page.
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { progressSeen: string[] }).progressSeen = []);
      const record = () => {
        const text = document.querySelector<HTMLElement>("[data-testid=import-progress]")?.innerText.replace(/\s+/g, " ").trim();
        if (text && seen.at(-1) !== text) seen.push(text);
      };
      new MutationObserver(record).observe(document.querySelector("main")!, { subtree: true, childList: true, characterData: true });
    });
    await page.getByRole("button", { name: "Scan now" }).click();
    await page.getByText("Scanning the music folder…").waitFor();
    await expect.poll(() => count("finished"), { timeout: 60_000 }).toBe("3");
    await expect.poll(() => count("errored"), { timeout: 60_000 }).toBe("2");
    await page.getByText("Scanning the music folder…").waitFor({ state: "detached" });
    expect(await count("pending")).toBe("0");
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
    expect(seen[0]).toMatch(/^Scanning the music folder…/);
    expect(seen.at(-1)).toMatch(/^3 imported 0 importing 2 failed 0 skipped Folder last scanned/);
    await page.getByRole("button", { name: "Scan now" }).waitFor();
    await screenshot(page, "library-scanned");
  }, 120_000);

  it("lists failed uploads first with their reasons, and retries or deletes one", async () => {
    // The scan's uploads were unknown to the list: it re-reads itself a moment after their events.
    // Polled whole: a row shown while its file was still importing is updated in place at once, and
    // moves to its place in the order when the list re-reads itself.
    const statuses = () => page.locator("table.uploads tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-status")));
    await expect.poll(statuses, { timeout: 15_000 }).toEqual(["errored", "errored", "finished", "finished", "finished"]);
    const { rows } = await app.db.pool.query("SELECT original_name, error_message FROM upload WHERE status = 'errored' ORDER BY original_name");
    expect(rows.map((r) => r.original_name)).toEqual(["broken.mp3", "empty.flac"]);
    for (const { original_name: name, error_message: message } of rows) {
      await expect(row(name).locator(".reason").innerText()).resolves.toContain(message);
    }

    await page.getByLabel("Show").selectOption({ label: "Failed (2)" });
    await expect.poll(() => page.locator("table.uploads tbody tr").count()).toBe(2);
    await page.locator("table.uploads").scrollIntoViewIfNeeded();
    await screenshot(page, "library-failed");

    // The file is fixed on disk, then retried: it imports, live. The retry's answer ("pending") is held
    // until the import has finished and its event had time to arrive: the older answer must not win.
    await makeAudio(music, { name: "broken", format: "mp3", tags: { TITLE: "Mended", ARTIST: "Rain", ALBUM: "Field Recordings" } });
    let released!: () => void;
    const answered = new Promise<void>((resolve) => (released = resolve));
    await page.route("**/api/v1/uploads/*/retry", async (route) => {
      const response = await route.fetch();
      await expect.poll(() => count("finished"), { timeout: 60_000 }).toBe("4");
      await page.waitForTimeout(1_000);
      await route.fulfill({ response });
      released();
    });
    await page.getByRole("button", { name: "Retry broken.mp3" }).click();
    await answered;
    await page.waitForTimeout(500); // the held answer has been handled
    await row("broken.mp3").getByText("Imported").waitFor({ timeout: 5_000 });
    await page.unroute("**/api/v1/uploads/*/retry");

    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Delete empty.flac" }).click();
    await row("empty.flac").waitFor({ state: "detached" });
    await expect.poll(() => count("errored")).toBe("0");
    const left = await app.db.pool.query("SELECT original_name, status FROM upload WHERE library_id = $1 ORDER BY original_name", [libraryId]);
    expect(left.rows.map((r) => [r.original_name, r.status])).toEqual([
      ["01 Drizzle.mp3", "finished"],
      ["02 Downpour.mp3", "finished"],
      ["03 After the storm, a very long title that wraps on a phone.mp3", "finished"],
      ["broken.mp3", "finished"],
    ]);
  }, 120_000);

  it("pages through every upload as the list is scrolled, and filters them by status", async () => {
    // Beside the first library's folder, not inside it.
    const many = await mkdtemp(path.join(os.tmpdir(), "polyphony-e2e-many-"));
    onTestFinished(() => rm(many, { recursive: true, force: true }));
    for (let i = 0; i < 57; i++) await writeFile(path.join(many, `note ${String(i).padStart(2, "0")}.mp3`), `not music ${i}\n`.repeat(30));
    const id = (await admin.post("/api/v1/libraries", { name: "Many", musicFolder: many })).body.id;
    await waitUntil(async () => {
      const { rows } = await app.db.pool.query("SELECT count(*) FILTER (WHERE status <> 'pending')::int AS n FROM upload WHERE library_id = $1", [id]);
      return rows[0].n === 57 || undefined;
    }, { timeout: 60_000 });
    await go(page, `/libraries/${id}`);
    const shown = page.locator("table.uploads tbody tr");
    await page.getByText("Showing 50 of 57").waitFor();
    await page.getByRole("button", { name: "Load more" }).scrollIntoViewIfNeeded();
    await page.getByText("Showing 57 of 57").waitFor();
    const names = await shown.locator("td.file").allInnerTexts();
    expect(new Set(names).size).toBe(57);
    await page.getByLabel("Show").selectOption({ label: "Imported (0)" });
    await page.getByText("No uploads with this status.").waitFor();
    await page.getByLabel("Show").selectOption({ label: "Failed (57)" });
    await page.getByText("Showing 50 of 57").waitFor();
  }, 120_000);

  it("says why a scan failed when the music folder cannot be read, and keeps its uploads", async () => {
    await go(page, `/libraries/${libraryId}`);
    await page.getByRole("button", { name: "Scan now" }).waitFor();
    const imported = await count("finished");
    await rename(music, `${music}.away`);
    onTestFinished(() => rename(`${music}.away`, music));
    await page.getByRole("button", { name: "Scan now" }).click();
    await page.getByText("Scanning the music folder…").waitFor();
    // The worker tries three times (about ten seconds) before the scan counts as failed.
    const failure = page.getByTestId("import-progress").getByRole("alert");
    await failure.waitFor({ timeout: 60_000 });
    expect(await failure.innerText()).toBe(`The last scan failed: The music folder ${music} cannot be read (it does not exist); nothing was changed`);
    expect(await count("finished")).toBe(imported);
    await screenshot(page, "library-scan-failed");
  }, 90_000);

  it("fits a phone's width (375 px): no page scrolls sideways, tables included", async () => {
    await admin.post("/api/v1/tokens", { name: "A token for the phone check with a long descriptive name" });
    const tracks: { id: string; title: string }[] = (await admin.get("/api/v1/tracks?sort=name")).body.items;
    for (const track of tracks) await admin.request("PUT", `/api/v1/favorites/tracks/${track.id}`);
    const playlist = (await admin.post("/api/v1/playlists", { name: "A playlist whose name is far too long to fit on one line of a phone" })).body.id;
    await admin.post(`/api/v1/playlists/${playlist}/items`, { trackIds: tracks.map((t) => t.id) });
    const albumId = (await admin.get("/api/v1/albums")).body.items[0].id;
    const artistId = (await admin.get("/api/v1/artists")).body.items[0].id;
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 375, height: 812 });
    const overflow = () => phone.evaluate(() => ({
      page: document.documentElement.scrollWidth - window.innerWidth,
      main: document.querySelector("main")!.scrollWidth - document.querySelector("main")!.clientWidth,
    }));
    await go(phone, `/libraries/${libraryId}`);
    await phone.locator("table.uploads tbody tr").first().waitFor();
    await phone.getByText("imported").first().waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    expect(await overflow()).toEqual({ page: 0, main: 0 });
    await phone.locator("table.uploads").scrollIntoViewIfNeeded();
    await screenshot(phone, "phone-library");
    const pages = [
      ["/", "Field Recordings"], ["/albums", "Field Recordings"], ["/artists", "Rain"], ["/tracks", "Drizzle"],
      [`/albums/${albumId}`, "Downpour"], [`/artists/${artistId}`, "Field Recordings"], ["/playlists", "A playlist whose"],
      [`/playlists/${playlist}`, "Downpour"], ["/search?q=drizzle", "Drizzle"], ["/favorites", "Downpour"],
      ["/libraries", "Folder music"], ["/settings", "A token for"], ["/admin", "curator"],
    ] as const;
    for (const [pathname, ready] of pages) {
      await go(phone, pathname);
      await phone.locator("main").getByText(ready).filter({ visible: true }).first().waitFor();
      if (await phone.locator("main table").count()) await phone.locator("main table").last().scrollIntoViewIfNeeded();
      await screenshot(phone, `phone-${pathname === "/" ? "home" : pathname.slice(1).replace(/\/[0-9a-f-]{36}$/, "-page").replace(/[/?=]+/g, "-")}`);
      expect({ pathname, ...(await overflow()) }).toEqual({ pathname, page: 0, main: 0 });
    }

    // A checkbox sits beside its words, not alone on a line above them.
    await go(phone, "/settings");
    const keep = phone.getByLabel("Keep my API tokens working");
    const [box, label] = await Promise.all([keep.boundingBox(), phone.locator("label", { has: keep }).boundingBox()]);
    expect({ checkbox: box!.width < 40, oneLine: label!.height < 2 * box!.height + 8 }).toEqual({ checkbox: true, oneLine: true });

    // A playlist's row leaves its title room to be read (not "Downp…"): at least half the row.
    await go(phone, `/playlists/${playlist}`);
    const row = phone.getByTestId("playlist-items").locator("li").first();
    const [title, whole] = await Promise.all([row.locator(".play-row").boundingBox(), row.boundingBox()]);
    expect(title!.width / whole!.width).toBeGreaterThanOrEqual(0.5);
    await phone.close();
  }, 90_000);
});
