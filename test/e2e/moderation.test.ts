// Moderation in Chromium (issue 17 point 5): alice blocks a follower of her library from its page and finds
// it in her settings; the admin resolves a report another server sent, blocks a server by its domain, and
// reads both decisions in the log. The other server is a test server that signs for real.
import { randomUUID } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { type RemoteActorServer, startRemoteActorServer } from "../helpers/remote-actor-server.ts";
import { waitUntil } from "../helpers/wait.ts";
import { buildWebUi, findChromium, launchChromium, screenshot } from "./browser.ts";

const chromiumPath = findChromium();

describe.skipIf(!chromiumPath)("moderation in the web UI", () => {
  let app: TestApp;
  let remote: RemoteActorServer;
  let admin: TestClient;
  let alice: TestClient;
  let browser: Browser;
  let library: { id: string };
  const problems: string[] = [];

  async function pageOf(client: TestClient): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const [name, value] = client.cookie!.split("=") as [string, string];
    await context.addCookies([{ name, value, url: client.baseUrl }]);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on("dialog", (dialog) => void dialog.accept());
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("response", (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`));
    return page;
  }
  const followers = async () => (await alice.get(`/api/v1/libraries/${library.id}/followers`)).body.items as unknown[];

  beforeAll(async () => {
    buildWebUi();
    remote = await startRemoteActorServer();
    app = await startTestApp({ worker: true, env: { FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" } });
    [admin, alice] = [new TestClient(app.url), new TestClient(app.url)];
    await admin.signup("operator");
    await alice.signup("alice");
    library = (await alice.post("/api/v1/libraries", { name: "Alice's shelf", privacy: "public" })).body;
    const object = `${TEST_ORIGIN}/federation/libraries/${library.id}`;
    for (const name of ["mallory", "trent"]) {
      const follow = { "@context": "https://www.w3.org/ns/activitystreams", id: `${remote.actorId(name)}#f/${randomUUID()}`, type: "Follow", actor: remote.actorId(name), object };
      expect((await remote.post(`${app.url}/inbox`, follow, remote.key(name))).status).toBe(202);
    }
    const flag = { "@context": "https://www.w3.org/ns/activitystreams", id: `${remote.origin}/reports/1`, type: "Flag", actor: remote.actorId("service"), object: [object], content: "Not theirs to share" };
    expect((await remote.post(`${app.url}/inbox`, flag, remote.key("service"))).status).toBe(202);
    await waitUntil(async () => (await followers()).length === 2, { what: "the two follows" });
    await waitUntil(async () => (await admin.get("/api/v1/admin/reports")).body.items.length === 1, { what: "the report" });
    browser = await launchChromium(chromiumPath!);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await remote?.close();
  });

  it("alice blocks a follower from her library's page, and finds it in her settings", async () => {
    const page = await pageOf(alice);
    await page.goto(`${app.url}/libraries/${library.id}`);
    const handle = `@mallory@${new URL(remote.origin).host}`;
    await page.getByRole("button", { name: `Block ${handle}` }).click();
    await page.getByRole("button", { name: `Block ${handle}` }).waitFor({ state: "detached" });
    expect(await followers()).toHaveLength(1);
    await page.goto(`${app.url}/settings`);
    const blocked = page.locator("section", { has: page.getByRole("heading", { name: "Blocked on other servers" }) });
    await blocked.getByText(handle).first().waitFor();
    await screenshot(page, "moderation-blocked-actors");
    await blocked.getByRole("button", { name: `Unblock ${handle}` }).click();
    await blocked.getByText("You have not blocked anyone.").waitFor();
  });

  it("the admin resolves the report, blocks the server, and reads both in the log", async () => {
    const page = await pageOf(admin);
    await page.goto(`${app.url}/admin`);
    await page.getByRole("link", { name: "Moderation" }).click();
    await page.getByText("Not theirs to share").waitFor();
    await page.getByRole("link", { name: "Alice's shelf" }).waitFor();
    await screenshot(page, "moderation-report");
    await page.getByLabel("What was done").fill("Asked alice");
    await page.getByRole("button", { name: "Resolve", exact: true }).click();
    await page.getByText("No report waiting.").waitFor();

    const host = new URL(remote.origin).host;
    await page.getByLabel("Domain").fill(host);
    await page.getByLabel("Decision").selectOption("blocked");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByLabel(`${host} blocked`).isChecked()).toBe(true);
    const log = page.locator("section", { has: page.getByRole("heading", { name: "Log" }) });
    // Newest first: the server's block (trent's follow dropped), the report, and alice's block and unblock before.
    await log.getByRole("row", { name: /Blocked server \(1 follow dropped\)/ }).waitFor();
    await log.getByRole("row", { name: /alice Blocked an actor \(1 follow dropped\)/ }).waitFor();
    await log.getByText("Resolved report").waitFor();
    await screenshot(page, "moderation-page");
    expect(await followers()).toEqual([]);
    expect(problems).toEqual([]);
  });
});
