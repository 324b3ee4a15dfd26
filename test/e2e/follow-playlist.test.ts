// Following a playlist on another server, in Chromium, with two servers (A and B, each with its worker):
// bob on B pastes the handle of alice's public playlist on A (its tracks in her private library), follows
// it, finds it among his playlists marked followed and read-only (no edit controls), and plays it.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";
import { freePort } from "../helpers/ports.ts";
import { buildWebUi, findChromium, launchChromium, screenshot, signedInPage } from "./browser.ts";

const chromiumPath = hasFfmpeg() ? findChromium() : undefined;

async function startServer(): Promise<TestApp> {
  const port = await freePort();
  return startTestApp({
    worker: true,
    env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" },
  });
}

describe.skipIf(!chromiumPath)("following a playlist on another server, in Chromium", () => {
  let a: TestApp;
  let b: TestApp;
  let alice: TestClient;
  let bob: TestClient;
  let browser: Browser;
  let page: Page;
  let dir: string;
  let playlist: { id: string; actorId: string };
  const problems: string[] = [];

  beforeAll(async () => {
    buildWebUi();
    dir = await mkdtemp(path.join(os.tmpdir(), "polyphony-e2e-playlist-"));
    [a, b] = await Promise.all([startServer(), startServer()]);
    alice = new TestClient(a.url);
    bob = new TestClient(b.url);
    await Promise.all([alice.signup("alice"), bob.signup("bob")]);
    const library = (await alice.post("/api/v1/libraries", { name: "Alice's records", privacy: "private" })).body;
    for (const [n, title] of ["Sunrise", "Noon"].entries()) {
      const file = await makeAudio(dir, { name: title, format: "mp3", seconds: 20, tags: { TITLE: title, ARTIST: "The Larks", ALBUM: "Day", TRACKNUMBER: String(n + 1) } });
      expect((await alice.upload(`/api/v1/libraries/${library.id}/uploads`, [{ name: `${title}.mp3`, data: await readFile(file) }])).status).toBe(201);
    }
    await waitForImports(a.db.pool, library.id);
    const tracks = (await alice.get("/api/v1/tracks?limit=10")).body.items as { id: string; title: string }[];
    playlist = (await alice.post("/api/v1/playlists", { name: "Morning", privacy: "public" })).body;
    await alice.post(`/api/v1/playlists/${playlist.id}/items`, { trackIds: ["Noon", "Sunrise"].map((t) => tracks.find((x) => x.title === t)!.id) });

    browser = await launchChromium(chromiumPath!);
    page = await signedInPage(browser, bob, { problems, serverErrorsOnly: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([a?.close(), b?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("bob follows it by its handle and it is listed among his follows as a playlist", async () => {
    await page.goto(new URL("/libraries", b.url).href);
    const handle = `@${new URL(playlist.actorId).pathname.split("/").pop()}@${new URL(a.url).host}`;
    await page.getByLabel("Handle or link").fill(handle);
    await page.getByRole("button", { name: "Look up" }).click();
    const preview = page.locator(".preview");
    await preview.getByRole("heading", { name: "Morning" }).waitFor();
    await preview.getByRole("button", { name: "Follow" }).click();
    await preview.getByText("Following").waitFor({ timeout: 30_000 });
    const row = page.locator("table", { has: page.locator("th", { hasText: "Server" }) }).locator("tr", { hasText: "Morning" });
    await row.getByText("playlist").waitFor();
    // Its name leads to the playlist's page here, not to a library's.
    expect(await row.getByRole("link", { name: "Morning" }).getAttribute("href")).toMatch(/^\/playlists\/[0-9a-f-]{36}$/);
    await screenshot(page, "follow-playlist");
  }, 60_000);

  it("it shows among his playlists, read-only, and plays", async () => {
    await page.goto(new URL("/playlists", b.url).href);
    const row = page.locator("tr", { hasText: "Morning" });
    await row.getByText("followed").waitFor({ timeout: 30_000 });
    await row.getByRole("link", { name: "Morning" }).click();
    await page.getByText("Followed · read-only").waitFor();
    await page.getByText(`by alice@${new URL(a.url).host}`).waitFor();
    await page.locator("[data-testid=playlist-items] .title", { hasText: "Sunrise" }).waitFor({ timeout: 30_000 });
    expect(await page.locator("[data-testid=playlist-items] .title").allInnerTexts()).toEqual(["Noon", "Sunrise"]);
    expect(await page.getByRole("button", { name: "Rename" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Remove Noon" }).count()).toBe(0);

    const stream = page.waitForResponse((r) => /\/api\/v1\/(tracks|uploads)\/[^/]+\/stream/.test(r.url()));
    await page.getByRole("button", { name: "▶ Play" }).click();
    expect((await stream).status()).toBeLessThan(300);
    await page.waitForFunction(() => {
      const audio = document.querySelector<HTMLAudioElement>("audio[data-player=active]");
      return audio && !audio.paused && audio.currentTime > 0.5;
    }, undefined, { timeout: 20_000 });
    await page.getByTestId("now-playing").getByText("Noon").waitFor();
    await screenshot(page, "followed-playlist-playing");
    await page.evaluate(() => document.querySelector<HTMLAudioElement>("audio[data-player=active]")?.pause());
    expect(problems).toEqual([]);
  }, 60_000);
});
