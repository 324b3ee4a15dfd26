// Following a library on another server, in Chromium, with two servers (A and B, each with its worker).
// Bob on B pastes the web page URL of alice's private library on A, sees what it is and follows it; alice
// sees the request arrive live on her library's page and approves it; bob's pages turn to following and
// show her album once scanned, without a reload; the scan (and a rescan) show their progress; her tracks
// play on B, and a track she adds arrives live; she revokes bob (his list says so live, the tracks leave
// B), and bob unfollows (her list empties live).
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio, makeCoverImage } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";
import { freePort } from "../helpers/ports.ts";
import { buildWebUi, findChromium, launchChromium, screenshot } from "./browser.ts";

const chromiumPath = hasFfmpeg() ? findChromium() : undefined;

async function startServer(): Promise<TestApp> {
  const port = await freePort();
  return startTestApp({
    worker: true,
    env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" },
  });
}

/** A page signed in as the client's user; `problems` collects its console errors and failed requests. */
async function pageOf(browser: Browser, client: TestClient, who: string): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const [name, value] = client.cookie!.split("=") as [string, string];
  await context.addCookies([{ name, value, url: client.baseUrl }]);
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const problems: string[] = [];
  const report = (problem: string) => {
    problems.push(problem);
    console.log(`[${who}'s browser] ${problem}`);
  };
  page.on("console", (m) => m.type() === "error" && report(`console: ${m.text()}`));
  page.on("pageerror", (error) => report(`page error: ${error.message}`));
  page.on("requestfailed", (r) => !r.failure()?.errorText.includes("ERR_ABORTED") && report(`failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => r.status() >= 400 && report(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`));
  return { context, page, problems };
}

describe.skipIf(!chromiumPath)("following a library on another server, in Chromium", () => {
  let a: TestApp;
  let b: TestApp;
  let alice: TestClient;
  let bob: TestClient;
  let browser: Browser;
  let bobContext: BrowserContext;
  let bobPage: Page;
  let aliceContext: BrowserContext;
  let alicePage: Page;
  let bobProblems: string[];
  let aliceProblems: string[];
  let dir: string;
  let library: { id: string; name: string };
  let cover: Buffer;
  const album = { ALBUM: "Night Songs", ALBUMARTIST: "The Owls", ARTIST: "The Owls" };
  /** Alice uploads a track of "Night Songs" to her library (through the API: her uploads are tested elsewhere). */
  async function upload(title: string, trackNumber: number) {
    const file = await makeAudio(dir, { name: title, format: "mp3", seconds: 20, tags: { ...album, TITLE: title, TRACKNUMBER: String(trackNumber) }, cover });
    const res = await alice.upload(`/api/v1/libraries/${library.id}/uploads`, [{ name: `${title}.mp3`, data: await readFile(file) }]);
    expect(res.status).toBe(201);
  }

  beforeAll(async () => {
    buildWebUi();
    dir = await mkdtemp(path.join(os.tmpdir(), "polyphony-e2e-follow-"));
    [a, b] = await Promise.all([startServer(), startServer()]);
    alice = new TestClient(a.url);
    bob = new TestClient(b.url);
    await Promise.all([alice.signup("alice"), bob.signup("bob")]);
    library = (await alice.post("/api/v1/libraries", { name: "Alice's records", privacy: "private" })).body;
    cover = await makeCoverImage(300, 300, "jpeg");
    await upload("Moonrise", 1);
    await upload("Midnight", 2);
    await waitForImports(a.db.pool, library.id);
    browser = await launchChromium(chromiumPath!);
    ({ context: bobContext, page: bobPage, problems: bobProblems } = await pageOf(browser, bob, "bob"));
    ({ context: aliceContext, page: alicePage, problems: aliceProblems } = await pageOf(browser, alice, "alice"));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([a?.close(), b?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Opens a page and waits for its event stream to answer: what the test checks arrives live must not be
   * sent before the page listens.
   */
  const open = async (page: Page, url: string) => {
    const listening = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/v1/events");
    await page.goto(url);
    await listening;
  };
  const bobGo = (pathname: string) => open(bobPage, new URL(pathname, b.url).href);
  const bobHandle = () => `@bob@${new URL(b.url).host}`;
  /** The library's row in bob's list of the libraries he follows. */
  const followRowOf = (name: string) =>
    bobPage.locator("table", { has: bobPage.locator("th", { hasText: "Server" }) }).locator("tr", { hasText: name });
  const followRow = () => followRowOf(library.name);
  /** Marks a page, so that a later check tells whether it was reloaded since. */
  const mark = (page: Page) => page.evaluate(() => ((window as unknown as { marked: boolean }).marked = true));
  const stillMarked = (page: Page) => page.evaluate(() => (window as unknown as { marked?: boolean }).marked === true);

  it("bob pastes the library's web page URL, sees what it is, and asks to follow it; alice sees the request arrive live", async () => {
    await open(alicePage, new URL(`/libraries/${library.id}`, a.url).href);
    await alicePage.getByText("Nobody follows this library yet").waitFor();
    await mark(alicePage);

    await bobGo("/libraries");
    await bobPage.getByRole("heading", { name: "Follow a library" }).waitFor();
    await bobPage.getByLabel("Handle or link").fill(`${a.url}/libraries/${library.id}`);
    await bobPage.getByRole("button", { name: "Look up" }).click();
    const preview = bobPage.locator(".preview");
    await preview.getByRole("heading", { name: library.name }).waitFor();
    await preview.scrollIntoViewIfNeeded();
    const facts = await preview.locator("dd").allInnerTexts();
    expect(facts[0]).toContain(`@alice@${new URL(a.url).host}`);
    expect(facts.slice(1)).toEqual(["2", "Those its owner approves"]);
    await screenshot(bobPage, "follow-preview");

    await preview.getByRole("button", { name: "Follow" }).click();
    await preview.getByText("Waiting for approval").waitFor();
    await followRow().getByText("Waiting for approval").waitFor();
    await mark(bobPage);

    const request = alicePage.locator(".followers tr", { hasText: bobHandle() });
    await request.getByText("Asks to follow").waitFor({ timeout: 30_000 });
    expect(await stillMarked(alicePage)).toBe(true);
    await screenshot(alicePage, "follow-request");
  }, 60_000);

  it("alice approves; bob's page turns to following without a reload, and the scan finishes", async () => {
    // In another tab, bob looks at his albums: alice's appear once scanned, without a reload.
    const albumsTab = await bobContext.newPage();
    await open(albumsTab, new URL("/albums", b.url).href);
    await albumsTab.getByRole("heading", { name: "Albums" }).waitFor();
    await mark(albumsTab);
    await alicePage.getByRole("button", { name: `Approve ${bobHandle()}` }).click();
    await alicePage.locator(".followers tr", { hasText: bobHandle() }).getByText("Follower", { exact: true }).waitFor();

    await followRow().getByText("Following").waitFor({ timeout: 30_000 });
    await bobPage.locator(".preview").getByText("Following").waitFor();
    expect(await stillMarked(bobPage)).toBe(true);
    // The library, now shared with bob, is listed with his libraries too, as followed on A.
    const shared = bobPage.locator("table", { has: bobPage.locator("th", { hasText: "Owner" }) }).locator("tr", { hasText: library.name });
    await shared.waitFor();
    expect((await shared.locator("td").allInnerTexts()).slice(1)).toEqual(["Followed", `on ${new URL(a.url).host}`]);

    await albumsTab.getByRole("link", { name: /Night Songs/ }).first().waitFor({ timeout: 30_000 });
    expect(await stillMarked(albumsTab)).toBe(true);
    await albumsTab.close();

    await followRow().getByRole("link", { name: library.name }).click();
    await bobPage.waitForURL("**/libraries/*");
    await bobPage.getByText("On another server", { exact: true }).waitFor();
    // What the owner reads about approving requests is not for bob.
    expect(await bobPage.getByText("you approve each request").count()).toBe(0);
    const scan = bobPage.getByTestId("remote-scan");
    await scan.getByText(/^Scanned .*: 2 tracks listed on 1 page: 2 tracks added, 0 updated, 0 removed\.$/).waitFor({ timeout: 30_000 });
    await screenshot(bobPage, "follow-scanned");

    // A rescan on demand shows its progress live, then its result: nothing changed.
    await bobPage.evaluate(() => {
      const seen: string[] = ((window as unknown as { scanSeen: string[] }).scanSeen = []);
      const node = document.querySelector<HTMLElement>("[data-testid=remote-scan]")!;
      const record = () => {
        const text = node.querySelector("p")?.textContent?.replace(/\s+/g, " ").trim();
        if (text && seen.at(-1) !== text) seen.push(text);
      };
      new MutationObserver(record).observe(node, { subtree: true, childList: true, characterData: true });
    });
    await scan.getByRole("button", { name: "Scan now" }).click();
    await scan.getByText(/^Scanned .*: 2 tracks listed on 1 page: 0 tracks added, 0 updated, 0 removed\.$/).waitFor({ timeout: 30_000 });
    const seen = await bobPage.evaluate(() => (window as unknown as { scanSeen: string[] }).scanSeen);
    expect(seen[0]).toMatch(/^(Waiting for its turn|Reading its pages)/);
    expect(seen.at(-1)).toMatch(/^Scanned /);
  }, 60_000);

  it("bob sees alice's tracks, plays her album (its cover shown); a track she adds arrives live; search finds them", async () => {
    await bobGo("/tracks");
    const list = bobPage.getByRole("list", { name: "Tracks" });
    await list.getByText("Moonrise").waitFor();
    await list.getByText("Midnight").waitFor();

    await list.getByRole("link", { name: "Night Songs" }).first().click();
    await bobPage.getByRole("heading", { name: "Night Songs" }).waitFor();
    // The remote album's cover, fetched from A through B and shown.
    await bobPage.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>(".album-head img");
      return img && img.complete && img.naturalWidth > 0;
    }, undefined, { timeout: 20_000 });

    const stream = bobPage.waitForResponse((r) => /\/api\/v1\/(tracks|uploads)\/[^/]+\/stream/.test(r.url()));
    await bobPage.getByRole("button", { name: "▶ Play" }).click();
    expect((await stream).status()).toBeLessThan(300);
    await bobPage.waitForFunction(() => {
      const audio = document.querySelector<HTMLAudioElement>("audio[data-player=active]");
      return audio && !audio.paused && audio.currentTime > 0.5;
    }, undefined, { timeout: 20_000 });
    await bobPage.getByTestId("now-playing").getByText("Moonrise").waitFor();
    await screenshot(bobPage, "follow-playing");

    // A track alice adds now reaches bob's open list without a rescan or a reload (Create(Audio), then
    // the catalog event).
    await bobGo("/tracks");
    await bobPage.getByRole("list", { name: "Tracks" }).getByText("Midnight").waitFor();
    await mark(bobPage);
    await upload("Dawn", 3);
    await bobPage.getByRole("list", { name: "Tracks" }).getByText("Dawn").waitFor({ timeout: 30_000 });
    expect(await stillMarked(bobPage)).toBe(true);

    // Search finds them too.
    await bobPage.getByLabel("Search artists, albums, tracks and playlists").fill("midnigth");
    await bobPage.locator("section[aria-labelledby=search-tracks]").getByText("Midnight").waitFor();
    expect([...bobProblems, ...aliceProblems]).toEqual([]);
  }, 45_000);

  it("alice revokes bob: his list says so at once, and after a reload his tracks are gone", async () => {
    await bobPage.evaluate(() => document.querySelector<HTMLAudioElement>("audio[data-player=active]")?.pause());
    await bobGo("/libraries");
    await followRow().getByText("Following").waitFor();
    await mark(bobPage);

    alicePage.once("dialog", (dialog) => void dialog.accept());
    await alicePage.getByRole("button", { name: `Revoke ${bobHandle()}` }).click();
    await alicePage.locator(".followers tr", { hasText: bobHandle() }).getByText("Refused").waitFor();

    // The Reject reaches bob's open page through the event stream.
    await followRow().getByText("Refused").waitFor({ timeout: 30_000 });
    await bobPage.getByRole("heading", { name: "Your libraries" }).locator("xpath=following-sibling::p[1]").getByText("None yet.").waitFor();
    expect(await stillMarked(bobPage)).toBe(true);

    await bobGo("/tracks");
    // The count beside the heading shows once the first page of the list has been read.
    await bobPage.locator(".page-header", { has: bobPage.getByRole("heading", { name: "Tracks" }) }).getByText("0", { exact: true }).waitFor();
    expect(await bobPage.getByRole("list", { name: "Tracks" }).getByText("Moonrise").count()).toBe(0);
    await screenshot(bobPage, "follow-revoked");
  }, 45_000);

  it("bob unfollows: the library leaves his list, and bob leaves alice's followers while her page is open", async () => {
    await bobGo("/libraries");
    bobPage.once("dialog", (dialog) => void dialog.accept());
    await bobPage.getByRole("button", { name: `Unfollow ${library.name}` }).click();
    await followRow().waitFor({ state: "detached" });
    await bobPage.getByRole("heading", { name: "Libraries and playlists you follow" }).locator("xpath=following-sibling::p[1]").getByText("None yet.").waitFor();

    // The Undo(Follow) reaches A; alice's page was not reloaded since she revoked bob.
    await alicePage.getByText("Nobody follows this library yet").waitFor({ timeout: 30_000 });
    expect(await stillMarked(alicePage)).toBe(true);
  }, 45_000);

  it("bob follows a public library by the handle alice copied from its page, accepted at once; a wrong handle says why", async () => {
    const open = (await alice.post("/api/v1/libraries", { name: "Open shelf", privacy: "public" })).body;
    await aliceContext.grantPermissions(["clipboard-read", "clipboard-write"], { origin: a.url });
    await alicePage.goto(new URL(`/libraries/${open.id}`, a.url).href);
    await alicePage.locator(".federation .copy-field", { hasText: "Handle" }).getByRole("button", { name: "Copy" }).click();
    const handle = await alicePage.evaluate(() => navigator.clipboard.readText());
    expect(handle).toBe(`@lib.${open.id.replaceAll("-", "")}@${new URL(a.url).host}`);

    await bobGo("/libraries");
    const box = bobPage.getByLabel("Handle or link");
    await box.fill(`@nobody@${new URL(a.url).host}`);
    await bobPage.getByRole("button", { name: "Look up" }).click();
    expect((await bobPage.locator(".follow").getByRole("alert").innerText()).length).toBeGreaterThan(10);

    await box.fill(handle);
    await bobPage.getByRole("button", { name: "Look up" }).click();
    const preview = bobPage.locator(".preview");
    await preview.getByRole("heading", { name: "Open shelf" }).waitFor();
    expect(await bobPage.locator(".follow").getByRole("alert").count()).toBe(0);
    expect((await preview.locator("dd").allInnerTexts()).slice(1)).toEqual(["0", "Anyone (public)"]);
    await preview.getByRole("button", { name: "Follow" }).click();
    await preview.getByText("Following", { exact: true }).waitFor({ timeout: 30_000 });
    await followRowOf("Open shelf").getByText("Following").waitFor();
  }, 45_000);
});
