// A library's page in Chromium shows how another server finds it: the handle (unless private) and the
// ActivityPub URL, each with a copy button; its HTML names the collection as the first link of its head.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { buildWebUi, findChromium, launchChromium, screenshot, signedInPage } from "./browser.ts";

const chromiumPath = findChromium();

describe.skipIf(!chromiumPath)("a library's federation details in Chromium", () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let owner: TestClient;

  beforeAll(async () => {
    buildWebUi();
    app = await startTestApp();
    owner = new TestClient(app.url);
    await owner.signup("sharer");
    browser = await launchChromium(chromiumPath!);
    page = await signedInPage(browser, owner, { timeoutMs: 30_000 });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("shows a public library's handle and URL with copy buttons", async () => {
    const library = (await owner.post("/api/v1/libraries", { name: "Shared", privacy: "public" })).body;
    await page.goto(new URL(`/libraries/${library.id}`, app.url).href);
    const handle = page.getByLabel("Handle");
    await handle.waitFor();
    expect(await handle.inputValue()).toBe(`@lib.${library.id.replaceAll("-", "")}@polyphony.test`);
    expect(await page.getByLabel("ActivityPub URL").inputValue()).toBe(`${TEST_ORIGIN}/federation/libraries/${library.id}`);
    expect(await page.locator(".federation button", { hasText: "Copy" }).count()).toBe(2);
    const firstLink = await page.evaluate(() => {
      const link = document.head.querySelector("link");
      return link && { rel: link.rel, type: link.type, href: link.href };
    });
    expect(firstLink).toEqual({ rel: "alternate", type: "application/activity+json", href: `${TEST_ORIGIN}/federation/libraries/${library.id}` });
    await screenshot(page, "library-federation-public");
  });

  it("shows only the URL of a private library, which is listed nowhere", async () => {
    const library = (await owner.post("/api/v1/libraries", { name: "Hidden", privacy: "private" })).body;
    await page.goto(new URL(`/libraries/${library.id}`, app.url).href);
    await page.getByLabel("ActivityPub URL").waitFor();
    expect(await page.getByLabel("Handle").count()).toBe(0);
    await page.getByText("Not listed anywhere").waitFor();
  });
});
