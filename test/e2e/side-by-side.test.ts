// Two instances on one machine (the README's `DATA_DIR=./data-two PORT=4001 npm start`), open in one browser:
// cookies ignore the port, so each must keep its own session cookie or signing in to one signs out of the other.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { PASSWORD } from "../helpers/client.ts";
import { freePort } from "../helpers/ports.ts";
import { buildWebUi, findChromium, launchChromium } from "./browser.ts";

const chromiumPath = findChromium();

/** An instance whose PUBLIC_URL is where it listens, as `npm start` with PORT and no PUBLIC_URL. */
async function startOnPort(): Promise<TestApp> {
  const port = await freePort();
  return startTestApp({ env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` } });
}

describe.skipIf(!chromiumPath)("two instances side by side in one browser", () => {
  let first: TestApp;
  let second: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    buildWebUi();
    [first, second] = await Promise.all([startOnPort(), startOnPort()]);
    browser = await launchChromium(chromiumPath!);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await first?.close();
    await second?.close();
  });

  async function signUp(page: Page, app: TestApp, username: string): Promise<void> {
    await page.goto(new URL("/signup", app.url).href);
    await page.getByRole("heading", { name: "Create an account" }).waitFor();
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.waitForURL(new URL("/", app.url).href);
  }

  /** Who the instance's web UI says is signed in (null: it sent the visitor to the login page). */
  async function signedIn(page: Page, app: TestApp): Promise<string | null> {
    await page.goto(new URL("/settings", app.url).href);
    const session = await page.request.get(new URL("/api/v1/auth/session", app.url).href);
    return ((await session.json()) as { user: { username: string } | null }).user?.username ?? null;
  }

  it("keeps each instance's session when signing in to the other", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await signUp(page, first, "first");
    await signUp(page, second, "second");
    expect(await signedIn(page, second)).toBe("second");
    expect(await signedIn(page, first)).toBe("first");
    expect(page.url()).toBe(new URL("/settings", first.url).href);
    await context.close();
  }, 90_000);
});
