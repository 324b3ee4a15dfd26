import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventStreams, MAX_STREAMS_PER_USER } from "../../server/http/event-streams.ts";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { openEventStream, type EventStream } from "../helpers/sse.ts";
import { sleep, waitUntil } from "../helpers/wait.ts";

const ffmpeg = hasFfmpeg();
const EMPTY_FILE = { name: "empty.mp3", data: new Uint8Array(0) };

describe.skipIf(!ffmpeg)("GET /api/v1/events", () => {
  let app: TestApp;
  let alice: TestClient;
  let bob: TestClient;
  let aliceLibrary: string;
  let bobLibrary: string;
  let song: { name: string; data: Uint8Array };
  let dir: string;
  const streams: EventStream[] = [];
  const open = async (client: TestClient) => {
    const stream = await openEventStream(client);
    streams.push(stream);
    return stream;
  };

  beforeAll(async () => {
    app = await startTestApp({ worker: true });
    alice = new TestClient(app.url);
    bob = new TestClient(app.url);
    await alice.signup("alice");
    await bob.signup("bob");
    aliceLibrary = (await alice.post("/api/v1/libraries", { name: "Alice's" })).body.id;
    bobLibrary = (await bob.post("/api/v1/libraries", { name: "Bob's" })).body.id;
    dir = await mkdtemp(path.join(os.tmpdir(), "events-"));
    const file = await makeAudio(dir, { name: "live", format: "mp3", tags: { TITLE: "Live Wire", ARTIST: "The Streamers" } });
    song = { name: "live.mp3", data: await readFile(file) };
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers 401 in the JSON error shape without a session or token", async () => {
    const stream = await openEventStream(new TestClient(app.url));
    expect(stream.status).toBe(401);
    expect(stream.body).toEqual({ error: { code: "unauthenticated", message: expect.any(String) } });
  });

  it("is an unbuffered, uncached event stream, also for API tokens", async () => {
    const client = new TestClient(app.url);
    client.bearer = (await alice.post("/api/v1/tokens", { name: "events" })).body.token;
    const stream = await open(client);
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(stream.headers.get("cache-control")).toBe("no-cache");
    expect(stream.headers.get("x-accel-buffering")).toBe("no");
    stream.close();
  });

  it("tells the owner an upload was created and then imported by the worker, with its track", async () => {
    const stream = await open(alice);
    const res = await alice.upload(`/api/v1/libraries/${aliceLibrary}/uploads`, [song]);
    expect(res.status).toBe(201);
    const id = res.body.uploads[0].id;
    const created = await stream.waitFor((e) => e.data.id === id && e.data.status === "pending");
    expect(created).toEqual({
      event: "upload",
      data: { id, libraryId: aliceLibrary, batchId: res.body.batchId, status: "pending", error: null, trackId: null },
    });
    const finished = await stream.waitFor((e) => e.data.id === id && e.data.status === "finished");
    const upload = (await alice.get(`/api/v1/uploads/${id}`)).body;
    expect(upload.trackId).toEqual(expect.any(String));
    expect(finished.data).toEqual({ id, libraryId: aliceLibrary, batchId: res.body.batchId, status: "finished", error: null, trackId: upload.trackId });
    expect(stream.events.indexOf(created)).toBeLessThan(stream.events.indexOf(finished));
  });

  it("carries the reason of an errored upload, and another user's stream gets nothing of it", async () => {
    const aliceStream = await open(alice);
    const bobStream = await open(bob);
    const res = await alice.upload(`/api/v1/libraries/${aliceLibrary}/uploads`, [EMPTY_FILE]);
    const id = res.body.uploads[0].id;
    const errored = await aliceStream.waitFor((e) => e.data.id === id && e.data.status === "errored");
    expect(errored.data.error).toEqual({ code: "empty_file", message: "The file is empty (0 bytes); copy or upload it again" });
    expect(errored.data.trackId).toBeNull();

    // Notifications are relayed in commit order: once Bob sees his own later upload, anything of
    // Alice's that could have reached him already has.
    const own = (await bob.upload(`/api/v1/libraries/${bobLibrary}/uploads`, [EMPTY_FILE])).body.uploads[0].id;
    await bobStream.waitFor((e) => e.data.id === own && e.data.status === "errored");
    expect(bobStream.events.length).toBeGreaterThan(0);
    expect(bobStream.events.every((e) => e.data.libraryId === bobLibrary)).toBe(true);
    expect(aliceStream.events.some((e) => e.data.id === own)).toBe(false);
  });

  it(`allows ${MAX_STREAMS_PER_USER} streams per account and frees a slot when a client goes away`, async () => {
    const carol = new TestClient(app.url);
    const carolId = (await carol.signup("carol")).body.user.id;
    const opened: EventStream[] = [];
    for (let i = 0; i < MAX_STREAMS_PER_USER; i++) opened.push(await open(carol));
    expect(opened.map((s) => s.status)).toEqual(Array(MAX_STREAMS_PER_USER).fill(200));
    const refused = await openEventStream(carol);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("too_many_streams");
    expect(refused.headers.get("retry-after")).toBe("30");
    // Another account is not affected.
    expect((await open(bob)).status).toBe(200);

    opened[0]!.close();
    await waitUntil(() => app.deps.events.streams.count(carolId) === MAX_STREAMS_PER_USER - 1 || undefined);
    expect((await open(carol)).status).toBe(200);
  });

  it("is listed in the OpenAPI document", async () => {
    const doc = (await alice.get("/api/v1/openapi.json")).body;
    expect(doc.paths["/api/v1/events"].get.security).toEqual([{ session: [] }, { token: [] }]);
  });
});

describe("the LISTEN connection", () => {
  const listeners = (app: TestApp) =>
    app.db.pool.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'",
    );

  it("comes back when the database drops it, and events flow again", async () => {
    const app = await startTestApp();
    try {
      const client = new TestClient(app.url);
      await client.signup("eve");
      const library = (await client.post("/api/v1/libraries", { name: "Eve's" })).body.id;
      const stream = await openEventStream(client);
      const [before] = (await listeners(app)).rows;
      expect(before).toBeDefined();
      await app.db.pool.query("SELECT pg_terminate_backend($1)", [before!.pid]);
      await waitUntil(async () => {
        const { rows } = await listeners(app);
        return (rows.length === 1 && rows[0]!.pid !== before!.pid) || undefined;
      });
      const id = (await client.upload(`/api/v1/libraries/${library}/uploads`, [EMPTY_FILE])).body.uploads[0].id;
      expect((await stream.waitFor((e) => e.data.id === id)).data.status).toBe("pending");
      stream.close();
    } finally {
      await app.close();
    }
  }, 60_000);

  it("is closed, and open streams ended, when the web server shuts down", async () => {
    const app = await startTestApp();
    try {
      const client = new TestClient(app.url);
      await client.signup("dora");
      const stream = await openEventStream(client);
      expect(stream.status).toBe(200);
      expect((await listeners(app)).rows).toHaveLength(1);
      await app.web.close();
      await stream.ended;
      await waitUntil(async () => (await listeners(app)).rows.length === 0 || undefined);
    } finally {
      await app.close();
    }
  });
});

describe("EventStreams", () => {
  it("ends a stream after its maximum lifetime, so the client reconnects through authentication", async () => {
    const hub = new EventStreams(60_000, 150);
    const web = express().get("/events", (req, res) => hub.open("someone", req, res));
    const server = http.createServer(web).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const client = new TestClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      const stream = await openEventStream(client, "/events");
      expect(stream.status).toBe(200);
      await stream.ended;
      expect(stream.blocks).toEqual(["retry: 3000\n: connected"]);
      expect(hub.count("someone")).toBe(0);
    } finally {
      hub.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  /** A hub on a real server, and a client that asks for its stream and then reads nothing. */
  async function stalledClient(hub: EventStreams) {
    const errors: Error[] = [];
    const web = express().get("/events", (req, res) => {
      res.on("error", (error) => errors.push(error)); // the default, no listener, would crash the process
      hub.open("slow", req, res);
    });
    const server = http.createServer(web).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const socket = net.connect((server.address() as AddressInfo).port, "127.0.0.1");
    socket.on("error", () => {});
    socket.write("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    socket.pause();
    await waitUntil(() => hub.count("slow") === 1 || undefined);
    const stop = async () => {
      hub.close();
      socket.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    };
    return { errors, stop };
  }

  it("ends the stream of a client that stopped reading without writing to it after its end", async () => {
    const hub = new EventStreams(60_000, 300);
    const { errors, stop } = await stalledClient(hub);
    try {
      // More than the socket buffers take: the end below cannot finish while the client reads nothing.
      hub.send("slow", "big", { data: "x".repeat(16 * 1024 * 1024) });
      await sleep(500); // its 300 ms lifetime is over
      hub.send("slow", "upload", { id: "after" });
      await sleep(50);
      expect(errors).toEqual([]);
      expect(hub.count("slow")).toBe(0);
    } finally {
      await stop();
    }
  });

  it("drops the stream of a client that fell a mebibyte behind, rather than holding its events", async () => {
    const hub = new EventStreams(60_000, 60_000);
    const { errors, stop } = await stalledClient(hub);
    try {
      const event = { data: "x".repeat(256 * 1024) };
      await waitUntil(() => {
        hub.send("slow", "big", event);
        return hub.count("slow") === 0 || undefined;
      });
      expect(errors).toEqual([]);
    } finally {
      await stop();
    }
  });

  it("writes a `: ping` comment line on every interval to each open stream", async () => {
    const hub = new EventStreams(20);
    const web = express().get("/events", (req, res) => hub.open("someone", req, res));
    const server = http.createServer(web).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const client = new TestClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      const stream = await openEventStream(client, "/events");
      await waitUntil(() => stream.blocks.filter((b) => b === ": ping").length >= 2 || undefined);
      hub.send("someone", "upload", { id: "x" });
      hub.send("someone else", "upload", { id: "y" });
      await stream.waitFor((e) => e.data.id === "x");
      hub.close();
      await stream.ended;
      expect(stream.events).toEqual([{ event: "upload", data: { id: "x" } }]);
    } finally {
      hub.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
