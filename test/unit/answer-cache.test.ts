import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import express, { type Request } from "express";
import { describe, expect, it } from "vitest";
import type { SubsonicUser } from "../../core/subsonic/credentials.service.ts";
import { AnswerCache, sendKept, type KeptAnswer } from "../../server/subsonic/answer-cache.ts";
import type { Format } from "../../server/subsonic/response.ts";
import { Params } from "../../server/subsonic/params.ts";
import { sleep } from "../helpers/wait.ts";

// The answer cache's own rules (server/subsonic/answer-cache.ts); test/subsonic/answer-cache.test.ts
// shows it through HTTP with a real database.

/** Params reads only the URL and a urlencoded body of the request. */
const params = (query: string) => new Params({ originalUrl: `/rest/x?${query}`, body: undefined } as Request);
const user = (id: string, answerVersion = "1.0"): SubsonicUser => ({ id, username: id, role: "user", disabled: false, answerVersion });
const json = { kind: "json" } as const;
const answer = (bytes: number): KeptAnswer => ({ type: "application/json", body: Buffer.alloc(bytes), etag: "x" });

describe("kept Subsonic answers", () => {
  const cache = new AnswerCache();

  const keyOf = (method: string, query: string, who = user("alice"), format: Format = json) => cache.question(method, params(query), format, who)?.key;

  it("keys a question by user, version, format, method and parameters, not by credentials or client", () => {
    const key = (query: string, who = user("alice")) => keyOf("getAlbum", query, who);
    expect(key("id=1&u=alice&t=aa&s=bb&c=DSub&v=1.16.1")).toBe(key("u=alice&p=secret&c=Symfonium&id=1"));
    expect(key("id=1")).not.toBe(key("id=2"));
    expect(key("id=1")).not.toBe(key("id=1", user("bob")));
    expect(key("id=1")).not.toBe(key("id=1", user("alice", "2.0")));
    expect(keyOf("getAlbum", "id=1", user("alice"), { kind: "xml" })).not.toBe(key("id=1"));
    expect(keyOf("search3", "query=a&songCount=5")).not.toBe(keyOf("search3", "query=a&songCount=6"));
  });

  it("keys only the parameters the method reads, and makes the answer from those alone", () => {
    // Junk parameters, or a second value of one it reads, would otherwise each make a new key (and a new answer).
    expect(keyOf("getAlbum", "id=1&_=123&junk=x&id=2")).toBe(keyOf("getAlbum", "id=1"));
    expect(keyOf("getStarred2", "a=1&a=2")).toBe(keyOf("getStarred2", ""));
    const asked = cache.question("getAlbumList2", params("type=newest&size=5&size=9&nonsense=1"), json, user("alice"))!.params;
    expect([asked.get("type"), asked.all("size"), asked.has("nonsense")]).toEqual(["newest", ["5"], false]);
  });

  it("never keeps writes, random lists or live state", () => {
    for (const method of ["star", "scrobble", "createPlaylist", "getPlaylists", "getNowPlaying", "getPlayQueue", "getRandomSongs", "getTopSongs", "stream", "constructor"]) {
      expect(keyOf(method, "")).toBeUndefined();
    }
    expect(keyOf("getAlbumList2", "type=random")).toBeUndefined();
    expect(keyOf("getAlbumList2", "type=newest")).toBeDefined();
  });

  it("makes an answer once for concurrent requests, and does not keep a failure", async () => {
    const local = new AnswerCache();
    let made = 0;
    const make = async () => {
      made++;
      await sleep(5);
      return answer(10);
    };
    const [a, b] = await Promise.all([local.answer("k", make), local.answer("k", make)]);
    expect(a).toBe(b);
    expect(made).toBe(1);
    await expect(local.answer("bad", async () => { throw new Error("no such album"); })).rejects.toThrow("no such album");
    expect((await local.answer("bad", async () => answer(1))).body).toEqual(answer(1).body);
  });

  it("holds at most its byte budget, dropping the least recently used first", async () => {
    const local = new AnswerCache(3000);
    for (const key of ["a", "b", "c"]) await local.answer(key, async () => answer(1000));
    await local.answer("a", async () => answer(1)); // a is used again: b is now the oldest
    await local.answer("d", async () => answer(1000));
    await new Promise((resolve) => setImmediate(resolve)); // sizes are counted once made
    const remade: string[] = [];
    for (const key of ["a", "c", "d", "b"]) await local.answer(key, async () => (remade.push(key), answer(1)));
    expect(remade).toEqual(["b"]);
  });

  it("counts the bytes of its keys against its budget", async () => {
    const local = new AnswerCache(3000);
    const long = (c: string) => c.repeat(1400);
    // Tiny answers under long keys (a search of a long text): two of them are the whole budget.
    for (const key of [long("a"), long("b"), long("c")]) await local.answer(key, async () => answer(1));
    await new Promise((resolve) => setImmediate(resolve));
    const remade: string[] = [];
    for (const key of [long("b"), long("c"), long("a")]) await local.answer(key, async () => (remade.push(key[0]!), answer(1)));
    expect(remade).toEqual(["a"]);
  });

  it("counts an answer's gzipped copy once it is made, sent over HTTP", async () => {
    // Random bytes do not compress: each gzipped copy is as big as its answer.
    const incompressible = (): KeptAnswer => ({ type: "application/octet-stream", body: randomBytes(20_000), etag: "r" });
    const local = new AnswerCache(70_000);
    const made: string[] = [];
    const app = express().get("/:key", async (req, res) => {
      const key = req.params.key;
      await sendKept(req, res, await local.answer(key, async () => (made.push(key), incompressible())));
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ask = (key: string) => fetch(`${url}/${key}`, { headers: { "accept-encoding": "gzip" } }).then((r) => r.arrayBuffer());
      // Two answers with their gzipped copies are ~80 KB: over the budget, the oldest goes.
      for (const key of ["a", "b", "a", "b"]) await ask(key);
      expect(made).toEqual(["a", "b", "a", "b"]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
