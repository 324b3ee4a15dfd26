// Last.fm scrobblers in Chromium (issue 18 point 2): alice registers an application in her settings, then a
// player's token sends her to Last.fm's approval address here; she allows it and the player gets its session.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { child, errorCode, lastfm, type LfmApp } from "../listens/lastfm-helpers.ts";
import { buildWebUi, findChromium, launchChromium, signedInPage } from "./browser.ts";

const chromiumPath = findChromium();

describe.skipIf(!chromiumPath)("Last.fm scrobblers in the web UI", () => {
  let app: TestApp;
  let alice: TestClient;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    buildWebUi();
    app = await startTestApp();
    alice = new TestClient(app.url);
    await alice.signup("alice");
    browser = await launchChromium(chromiumPath!);
    page = await signedInPage(browser, alice, { viewport: { width: 1280, height: 900 }, problems });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("registers an application in Settings and shows its key, secret and the scrobbler password", async () => {
    await page.goto(`${app.url}/settings`);
    await page.getByLabel("Application name").fill("Pano Scrobbler");
    await page.getByRole("button", { name: "Register application" }).click();
    await page.getByRole("button", { name: "Remove Pano Scrobbler" }).waitFor();
    const [registered] = (await alice.get("/api/v1/lastfm/apps")).body.items as LfmApp[];
    const section = page.getByRole("region", { name: "Last.fm scrobblers" });
    expect(await section.getByLabel("API key").inputValue()).toBe(registered!.apiKey);
    expect(await section.getByLabel("Shared secret").inputValue()).toBe(registered!.secret);
    const password = (await alice.get("/api/v1/me/scrobbler")).body.password;
    expect(await section.getByLabel("Scrobbler password").inputValue()).toBe(password);
    expect(problems).toEqual([]);
  });

  it("approves a player's token from Last.fm's approval address, after which auth.getSession answers", async () => {
    const [player] = (await alice.get("/api/v1/lastfm/apps")).body.items as LfmApp[];
    const token = child((await lastfm(app.url, { method: "auth.getToken" }, { app: player })).xml, "token").text;
    await page.goto(`${app.url}/api/auth/?api_key=${player!.apiKey}&token=${token}`);
    await page.getByText("Pano Scrobbler asks to send what you listen to").waitFor();
    expect(errorCode(await lastfm(app.url, { method: "auth.getSession", token }, { app: player }))).toBe(14);
    await page.getByRole("button", { name: "Allow" }).click();
    await page.getByText("Done. You can go back to Pano Scrobbler.").waitFor();
    const session = await lastfm(app.url, { method: "auth.getSession", token, format: "json" }, { app: player });
    expect(session.json.session.name).toBe("alice");
    // The same address again: the request is used up.
    await page.goto(`${app.url}/lastfm/auth?api_key=${player!.apiKey}&token=${token}`);
    await page.getByText("This request is unknown or has expired").waitFor();
    expect(problems.filter((p) => !p.includes("/api/v1/lastfm/auth?"))).toEqual([]);
  });
});
