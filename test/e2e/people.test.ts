// People pages in Chromium, with two servers (A and B): Alice on A shares libraries and a playlist; Carol on A
// sees them on Alice's profile; Bob on B looks Alice up by handle on his People page and follows her public
// libraries with one click.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { freePort } from "../helpers/ports.ts";
import { waitUntil } from "../helpers/wait.ts";
import { buildWebUi, findChromium, launchChromium, screenshot, signedInPage } from "./browser.ts";

const chromiumPath = findChromium();

async function startServer(): Promise<TestApp> {
  const port = await freePort();
  return startTestApp({ worker: true, env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
}

/** A page signed in as the client's user; HTTP errors and page errors are collected. */
function pageOf(browser: Browser, client: TestClient, problems: string[]): Promise<Page> {
  return signedInPage(browser, client, { problems });
}

describe.skipIf(!chromiumPath)("people pages, in Chromium", () => {
  let a: TestApp;
  let b: TestApp;
  let browser: Browser;
  const problems: string[] = [];
  let alice: TestClient;
  let carol: TestClient;
  let bob: TestClient;

  beforeAll(async () => {
    buildWebUi();
    [a, b] = await Promise.all([startServer(), startServer()]);
    [alice, carol, bob] = [new TestClient(a.url), new TestClient(a.url), new TestClient(b.url)];
    await Promise.all([alice.signup("alice"), carol.signup("carol"), bob.signup("bob")]);
    await alice.post("/api/v1/libraries", { name: "Open shelf", privacy: "public" });
    await alice.post("/api/v1/libraries", { name: "Secret shelf", privacy: "private" });
    await alice.post("/api/v1/playlists", { name: "Road mix", privacy: "public" });
    browser = await launchChromium(chromiumPath!);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all([a?.close(), b?.close()]);
  });

  it("Carol sees what Alice shares on her profile, not her private library", async () => {
    const page = await pageOf(browser, carol, problems);
    await page.goto(`${a.url}/people/alice`);
    await page.getByRole("heading", { name: "alice" }).waitFor();
    await page.getByRole("link", { name: "Open shelf" }).waitFor();
    await page.getByRole("link", { name: "Road mix" }).waitFor();
    expect(await page.getByText("Secret shelf").count()).toBe(0);
    await screenshot(page, "people-local-profile");
    expect(problems).toEqual([]);
  });

  it("Bob looks Alice up by handle on another server and follows her public libraries in one click", async () => {
    const page = await pageOf(browser, bob, problems);
    await page.goto(`${b.url}/people`);
    // His own profile first.
    await page.getByRole("heading", { name: "bob" }).waitFor();
    await page.getByPlaceholder("@name@example.org, or a name here").fill(`@alice@${new URL(a.url).host}`);
    await page.getByRole("button", { name: "Look up" }).click();
    await page.getByRole("heading", { name: "alice" }).waitFor();
    await page.getByText("Open shelf").waitFor();
    await page.getByRole("button", { name: "Follow their public libraries" }).click();
    // The button goes once every public library is followed (pending, then accepted by A).
    await page.getByRole("button", { name: "Follow their public libraries" }).waitFor({ state: "detached" });
    await waitUntil(async () => {
      const items = (await bob.get<{ items: { state: string; library: { name: string } }[] }>("/api/v1/federation/follows")).body.items;
      return items.find((f) => f.library.name === "Open shelf" && f.state === "accepted");
    }, { what: "the accepted follow" });
    await screenshot(page, "people-remote-profile");
    expect(problems).toEqual([]);
  });
});
