// Drives Debian's Chromium with playwright-core for the end-to-end tests of the web UI.
import { execFileSync } from "node:child_process";
import { closeSync, openSync, rmSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { ROOT } from "../helpers/processes.ts";
import { chromiumPath } from "../helpers/system-programs.ts";

export const SCREENSHOT_DIR = path.join(ROOT, "test-results", "screenshots");

/**
 * Chromium's absolute path (test/helpers/system-programs.ts finds it: locally a missing one prints a skip
 * reason, under CI it is an error since .ci/run installs it).
 */
export function findChromium(): string | undefined {
  const found = chromiumPath();
  if (!found || path.isAbsolute(found)) return found;
  return execFileSync("sh", ["-c", 'command -v "$0"', found], { encoding: "utf8" }).trim() || undefined;
}

const BUILD_LOCK = path.join(ROOT, "web", ".build.lock");

/**
 * Builds web/dist when it is missing or older than web/src (the server serves whatever is there). Test files
 * run in parallel: a lock file keeps a second build from emptying web/dist under the first file's server.
 */
export function buildWebUi(): void {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      closeSync(openSync(BUILD_LOCK, "wx"));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // A lock left by a killed run is older than any build.
      const heldSince = statSync(BUILD_LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (Date.now() - heldSince > 300_000) rmSync(BUILD_LOCK, { force: true });
      if (Date.now() > deadline) throw new Error(`${BUILD_LOCK} held for 3 minutes`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    execFileSync(process.execPath, [path.join(ROOT, "web", "build.ts"), "--if-stale"], { cwd: ROOT, stdio: "inherit" });
  } finally {
    rmSync(BUILD_LOCK, { force: true });
  }
}

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    // Root in a container needs --no-sandbox; audio must start without a click, and there is no sound card.
    args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--disable-dev-shm-usage", "--mute-audio"],
  });
}

/**
 * A page in a fresh browser context, signed in with the client's session cookie. With `problems`, page
 * errors and failed responses (from 400, or from 500 with `serverErrorsOnly`: a missing cover's 404 is
 * expected on some pages) are collected there for the test to assert none happened.
 */
export async function signedInPage(
  browser: Browser,
  client: { cookie: string | undefined; baseUrl: string },
  options: { viewport?: { width: number; height: number }; timeoutMs?: number; problems?: string[]; serverErrorsOnly?: boolean } = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 800 } });
  const [name, value] = client.cookie!.split("=") as [string, string];
  await context.addCookies([{ name, value, url: client.baseUrl }]);
  const page = await context.newPage();
  page.setDefaultTimeout(options.timeoutMs ?? 20_000);
  const { problems } = options;
  if (problems) {
    const from = options.serverErrorsOnly ? 500 : 400;
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("response", (r) => r.status() >= from && problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`));
  }
  return page;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  // Covers in view must have loaded (lazy ones below the fold never start, so only those on screen count).
  await page.waitForFunction(() =>
    [...document.images].every((img) => {
      const box = img.getBoundingClientRect();
      return img.complete || box.bottom < 0 || box.top > innerHeight || box.width === 0;
    }),
  );
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: false });
}

/** Drops files on an element the way a person dragging them from the desktop does (a `drop` with a DataTransfer). */
export async function dropFiles(page: Page, selector: string, files: { name: string; type: string; data: Buffer }[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, type: f.type, base64: f.data.toString("base64") }));
  const dataTransfer = await page.evaluateHandle((items) => {
    const transfer = new DataTransfer();
    for (const item of items) {
      const bytes = Uint8Array.from(atob(item.base64), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], item.name, { type: item.type }));
    }
    return transfer;
  }, payload);
  await page.dispatchEvent(selector, "dragenter", { dataTransfer });
  await page.dispatchEvent(selector, "drop", { dataTransfer });
}
