// Instance follows in the administration page, in Chromium, with two servers (A and B, each with its
// worker): B's administrator types A's name, B follows A's public library for everyone, carol (who
// follows nothing herself) finds its track on B, and the administrator stops the follow.
import { randomBytes } from "node:crypto";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks } from "../helpers/factories.ts";
import { freePort } from "../helpers/ports.ts";
import { waitUntil } from "../helpers/wait.ts";
import { buildWebUi, findChromium, launchChromium, screenshot } from "./browser.ts";

const chromiumPath = findChromium();

async function startServer(): Promise<TestApp> {
  const port = await freePort();
  return startTestApp({ worker: true, env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
}

describe.skipIf(!chromiumPath)("following another server's public libraries from the administration page", () => {
  let a: TestApp;
  let b: TestApp;
  let admin: TestClient;
  let carol: TestClient;
  let browser: Browser;

  beforeAll(async () => {
    buildWebUi();
    [a, b] = await Promise.all([startServer(), startServer()]);
    const alice = new TestClient(a.url);
    [admin, carol] = [new TestClient(b.url), new TestClient(b.url)];
    await alice.signup("alice");
    await admin.signup("boss");
    await carol.signup("carol");
    const library = (await alice.post("/api/v1/libraries", { name: "Alice's open shelf", privacy: "public" })).body;
    await seedTracks(a, library.id, [{ tags: { TITLE: "Shared Song", ARTIST: "Alice Band", ALBUM: "Shared Album", TRACKNUMBER: "1" }, data: randomBytes(20_000) }]);
    browser = await launchChromium(chromiumPath!);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all([a?.close(), b?.close()]);
  });

  it("follows A's public library for everyone, and stops it", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const [name, value] = admin.cookie!.split("=") as [string, string];
    await context.addCookies([{ name, value, url: b.url }]);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("dialog", (dialog) => void dialog.accept());

    await page.goto(new URL("/admin", b.url).href);
    await page.getByRole("heading", { name: "Other servers' libraries" }).waitFor();
    await page.getByText("This server follows no other server's libraries.").waitFor();
    const host = new URL(a.url).host;
    await page.getByLabel("Server name").fill(host);
    await page.getByRole("button", { name: "Follow its public libraries" }).click();
    await page.getByRole("heading", { name: host }).waitFor();
    await page.getByRole("row", { name: /Alice's open shelf/ }).waitFor();
    // Accepted and scanned, the row says so without a reload.
    await page.getByRole("row", { name: /Alice's open shelf.*Following.*1/ }).waitFor();
    await screenshot(page, "admin-instance-follows");

    // Everyone on B sees it once scanned.
    await waitUntil(async () => ((await carol.get("/api/v1/tracks")).body.items as { title: string }[]).some((t) => t.title === "Shared Song") || undefined, {
      what: "the scan",
      timeout: 30_000,
    });

    await page.getByRole("button", { name: `Stop following ${host}` }).click();
    await page.getByText("This server follows no other server's libraries.").waitFor();
    await waitUntil(async () => ((await carol.get("/api/v1/tracks")).body.items as unknown[]).length === 0 || undefined, { what: "the music to leave" });
    expect(problems).toEqual([]);
    await context.close();
  }, 90_000);
});
