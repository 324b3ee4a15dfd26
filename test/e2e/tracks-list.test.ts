// The tracks page over a 100,000-track catalog: the list stays virtual (a few dozen rows in the DOM wherever
// you scroll) and fetches the pages under the view, up to the very last track.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalogFixture } from "../../bench/catalog-fixtures.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { buildWebUi, findChromium, launchChromium, signedInPage } from "./browser.ts";

const chromiumPath = findChromium();
const TRACKS = 100_000;

describe.skipIf(!chromiumPath)("virtualised tracks list at 100k tracks", () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;

  const renderedRows = () => page.locator(".vrow").count();
  const scrollTo = (fraction: number) =>
    page.locator(".virtual").evaluate((el, f) => (el.scrollTop = f * (el.scrollHeight - el.clientHeight)), fraction);
  /** Waits for the row at 1-based `position` to be in the DOM with its track loaded; returns its title. */
  const loadedRow = async (position: number) => {
    const row = page.locator(`.vrow[aria-posinset="${position}"] .title`);
    await row.waitFor();
    return row.innerText();
  };

  beforeAll(async () => {
    buildWebUi();
    app = await startTestApp();
    const client = new TestClient(app.url);
    await client.signup("lister");
    const library = (await client.post("/api/v1/libraries", { name: "Big" })).body.id as string;
    await loadCatalogFixture(app.db.pool, library, TRACKS);
    await app.db.pool.query("VACUUM ANALYZE");
    browser = await launchChromium(chromiumPath!);
    page = await signedInPage(browser, client, { timeoutMs: 30_000 });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("renders only the rows in view, at the top, the middle and the very end", async () => {
    await page.goto(new URL("/tracks", app.url).href);
    await page.getByText(TRACKS.toLocaleString("en-US")).waitFor();
    const first = await loadedRow(1);
    expect(first.length).toBeGreaterThan(0);
    expect(await renderedRows()).toBeLessThan(80);

    await scrollTo(0.5);
    const middle = await loadedRow(50_001);
    expect(middle.length).toBeGreaterThan(0);
    expect(await renderedRows()).toBeLessThan(80);
    await expect(page.locator(".vrow[aria-posinset='1']").count()).resolves.toBe(0);

    await scrollTo(1);
    const last = await loadedRow(TRACKS);
    const expected = await app.db.pool.query("SELECT count(*)::int AS n FROM track");
    expect(expected.rows[0].n).toBe(TRACKS);
    expect(last.length).toBeGreaterThan(0);
    expect(await renderedRows()).toBeLessThan(80);
    // The last row is the last track of the API's own order.
    const api = await page.evaluate(async (offset) => {
      const response = await fetch(`/api/v1/tracks?sort=name&order=asc&offset=${offset}&limit=1`);
      return ((await response.json()) as { items: { title: string }[] }).items[0]!.title;
    }, TRACKS - 1);
    expect(last).toBe(api);
  }, 120_000);
});
