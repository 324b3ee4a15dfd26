// Real HTTP servers on loopback, no database: the unit tier (README, "Tests").
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureLogging, type LogRecord } from "../../config/logging.ts";
import { loadConfig } from "../../config/env.ts";
import { classifyAddress } from "../../core/fediverse/address-policy.ts";
import { type OutboundPolicy, OutboundRefused, outboundPolicy, safeFetch } from "../../core/fediverse/safe-fetch.ts";

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
}

let server: http.Server;
let port: number;
let origin: string;
const seen: Seen[] = [];

function route(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url!, "http://x");
  const go = (status: number, location: string): void => void res.writeHead(status, { location }).end();
  const n = Number(url.searchParams.get("n") ?? 0);
  switch (url.pathname) {
    case "/hello":
      return void res.writeHead(200, { "content-type": "text/plain" }).end("hello");
    case "/to":
      return go(302, url.searchParams.get("url")!);
    case "/loop":
      return go(301, "/loop");
    case "/chain":
      return n === 0 ? void res.end(`end`) : go(307, `/chain?n=${n - 1}`);
    case "/see-other":
      return go(303, "/echo");
    case "/echo":
      return void res.end(`${req.method} ${req.headers.authorization ?? "-"}`);
    case "/big-declared":
      return void res.writeHead(200, { "content-length": String(2 * 1024 * 1024) }).end(Buffer.alloc(2 * 1024 * 1024));
    case "/big-chunked": {
      res.writeHead(200);
      for (let i = 0; i < 32; i++) res.write(Buffer.alloc(64 * 1024));
      return void res.end();
    }
    case "/silent":
      return; // never answers
    case "/stall-body":
      res.writeHead(200, { "content-type": "text/plain" });
      return void res.write("first bytes, then nothing");
    default:
      res.writeHead(404).end();
  }
}

const instance = loadConfig({ PUBLIC_URL: "https://music.example.org" });
const open: OutboundPolicy = { ...outboundPolicy(instance), allowPrivateAddress: true };
const closed: OutboundPolicy = outboundPolicy(instance);
// 127.0.0.1 plays a public server on the internet; every other address keeps its real class.
const loopbackIsPublic: OutboundPolicy = {
  ...closed,
  classify: (address) => (address === "127.0.0.1" ? undefined : classifyAddress(address)),
};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ path: req.url!, headers: req.headers });
    route(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function refusal(promise: Promise<unknown>): Promise<OutboundRefused> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OutboundRefused);
  return error as OutboundRefused;
}

describe("safeFetch with private addresses refused (the production setting)", () => {
  it.each([
    ["loopback IPv4", () => `http://127.0.0.1:${port}/hello`],
    ["loopback IPv6", () => `http://[::1]:${port}/hello`],
    ["IPv4-mapped loopback", () => `http://[::ffff:127.0.0.1]:${port}/hello`],
    ["a name resolving to loopback", () => `http://localhost:${port}/hello`],
    ["unspecified", () => `http://0.0.0.0:${port}/hello`],
    ["private 10/8", () => "http://10.0.0.1/"],
    ["private 192.168/16", () => "http://192.168.1.1/"],
    ["cloud metadata", () => "http://169.254.169.254/latest/meta-data/"],
    ["cloud metadata, mapped", () => "http://[::ffff:169.254.169.254]/latest/meta-data/"],
    ["CGNAT", () => "http://100.64.0.1/"],
    ["unique-local IPv6", () => "http://[fd00::1]/"],
    ["link-local IPv6", () => "http://[fe80::1]/"],
  ])("refuses %s without sending anything", async (_, url) => {
    const before = seen.length;
    const error = await refusal(safeFetch(url(), { policy: closed }));
    expect(error.reason).toBe("private-address");
    expect(error.url).toBe(new URL(url()).href);
    expect(seen.length).toBe(before);
  });

  it("logs every refusal with its reason and whole URL, once", async () => {
    const records: LogRecord[] = [];
    await configureLogging({ log: { level: "warning", format: "text" } }, { capture: (r) => records.push(r) });
    try {
      await refusal(safeFetch("http://169.254.169.254/", { policy: closed }));
      await refusal(safeFetch(`http://localhost:${port}/hello`, { policy: closed }));
    } finally {
      await configureLogging({ log: { level: "error", format: "text" } });
    }
    const logged = records.filter((r) => r.category.join(".") === "polyphony.fediverse.outbound");
    expect(logged.map((r) => r.level)).toEqual(["warning", "warning"]);
    expect(logged[0]!.properties).toMatchObject({ reason: "private-address", url: "http://169.254.169.254/" });
    expect(logged[1]!.properties).toMatchObject({ reason: "private-address", url: `http://localhost:${port}/hello` });
  });

  it("refuses schemes other than http and https", async () => {
    expect((await refusal(safeFetch("file:///etc/passwd", { policy: open }))).reason).toBe("bad-scheme");
    expect((await refusal(safeFetch("ftp://example.org/x", { policy: open }))).reason).toBe("bad-scheme");
    expect((await refusal(safeFetch("not a url", { policy: open }))).reason).toBe("bad-url");
  });
});

describe("safeFetch with the development setting on", () => {
  it("fetches from loopback and names the software, version and instance", async () => {
    const response = await safeFetch(`http://localhost:${port}/hello`, { policy: open });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("hello");
    expect(seen.at(-1)!.headers["user-agent"]).toMatch(/^polyphony\/\d+\.\d+\.\d+ \(\+https:\/\/music\.example\.org\/\)$/);
  });

  it("hands back non-2xx answers for the caller to judge", async () => {
    const response = await safeFetch(`${origin}/nothing-here`, { policy: open });
    expect(response.status).toBe(404);
  });
});

describe("redirects", () => {
  it("checks every hop: a public server redirecting to a private address is refused", async () => {
    const ok = await safeFetch(`${origin}/hello`, { policy: loopbackIsPublic });
    expect(await ok.text()).toBe("hello");
    for (const target of [`http://[::1]:${port}/hello`, "http://169.254.169.254/latest/meta-data/", "http://10.1.1.1/"]) {
      const before = seen.length;
      const error = await refusal(safeFetch(`${origin}/to?url=${encodeURIComponent(target)}`, { policy: loopbackIsPublic }));
      expect(error.reason).toBe("private-address");
      expect(seen.length).toBe(before + 1); // the redirecting server only
    }
  });

  it("refuses a redirect to another scheme", async () => {
    const error = await refusal(safeFetch(`${origin}/to?url=file:///etc/passwd`, { policy: open }));
    expect(error.reason).toBe("bad-scheme");
  });

  it("stops a redirect loop", async () => {
    const error = await refusal(safeFetch(`${origin}/loop`, { policy: open, maxRedirects: 4 }));
    expect(error.reason).toBe("too-many-redirects");
  });

  it("follows up to the limit and no further", async () => {
    const response = await safeFetch(`${origin}/chain?n=3`, { policy: open, maxRedirects: 3 });
    expect(await response.text()).toBe("end");
    expect(response.url).toBe(`${origin}/chain?n=0`);
    const error = await refusal(safeFetch(`${origin}/chain?n=4`, { policy: open, maxRedirects: 3 }));
    expect(error.reason).toBe("too-many-redirects");
  });

  it("turns a POST into a GET on 303 and keeps credentials only on the same origin", async () => {
    const same = await safeFetch(`${origin}/see-other`, {
      policy: open,
      method: "POST",
      body: "x",
      headers: { Authorization: "secret" },
    });
    expect(await same.text()).toBe("GET secret");
    const elsewhere = `http://localhost:${port}/echo`; // another origin, same server
    const other = await safeFetch(`${origin}/to?url=${encodeURIComponent(elsewhere)}`, {
      policy: open,
      headers: { Authorization: "secret" },
    });
    expect(await other.text()).toBe("GET -");
  });
});

describe("limits", () => {
  it("refuses a body whose declared length is over the limit", async () => {
    const error = await refusal(safeFetch(`${origin}/big-declared`, { policy: open, maxBytes: 1024 * 1024 }));
    expect(error.reason).toBe("too-large");
  });

  it("aborts reading a chunked body once it passes the limit", async () => {
    const response = await safeFetch(`${origin}/big-chunked`, { policy: open, maxBytes: 1024 * 1024 });
    expect(response.status).toBe(200);
    const error = await refusal(response.arrayBuffer());
    expect(error.reason).toBe("too-large");
    const fits = await safeFetch(`${origin}/big-chunked`, { policy: open, maxBytes: 2 * 1024 * 1024 });
    expect((await fits.arrayBuffer()).byteLength).toBe(2 * 1024 * 1024);
  });

  it("times out a server that never answers", async () => {
    const started = Date.now();
    const error = await refusal(safeFetch(`${origin}/silent`, { policy: open, timeoutMs: 300 }));
    expect(error.reason).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("times out a body that stalls halfway", async () => {
    const response = await safeFetch(`${origin}/stall-body`, { policy: open, timeoutMs: 300 });
    expect(response.status).toBe(200);
    const error = await refusal(response.text());
    expect(error.reason).toBe("timeout");
  });

  it("reports a closed port as unreachable, at once", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = http.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const error = await refusal(safeFetch(`http://127.0.0.1:${closedPort}/`, { policy: open }));
    expect(error.reason).toBe("unreachable");
  });

  it("leaves the caller's own abort as it is", async () => {
    const controller = new AbortController();
    const pending = safeFetch(`${origin}/silent`, { policy: open, signal: controller.signal });
    controller.abort(new Error("caller gave up"));
    await expect(pending).rejects.toThrow("caller gave up");
  });
});
