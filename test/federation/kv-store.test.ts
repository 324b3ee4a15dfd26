import { Temporal } from "@js-temporal/polyfill";
import { describe, expect, it } from "vitest";
import type { Database } from "../../core/db/database.ts";
import { deleteExpiredKvEntries, PostgresKvStore } from "../../federation/backends/postgres-kv-store.ts";
import { useTestDatabase } from "../helpers/database.ts";

let db: Database;
let kv: PostgresKvStore;
useTestDatabase(8, (opened) => {
  db = opened;
  kv = new PostgresKvStore(db);
});

const ttl = (seconds: number) => Temporal.Duration.from({ seconds }) as unknown as globalThis.Temporal.Duration;

describe("PostgresKvStore", () => {
  it("round-trips JSON values and tells a missing key (undefined) from a stored null", async () => {
    await kv.set(["_fedify", "doc", "https://a.example/1"], { name: "Ä", list: [1, 2], nested: { ok: true } });
    expect(await kv.get(["_fedify", "doc", "https://a.example/1"])).toEqual({ name: "Ä", list: [1, 2], nested: { ok: true } });
    await kv.set(["_fedify", "key", "gone"], null);
    expect(await kv.get(["_fedify", "key", "gone"])).toBeNull();
    expect(await kv.get(["_fedify", "key", "never"])).toBeUndefined();
    await kv.delete(["_fedify", "doc", "https://a.example/1"]);
    expect(await kv.get(["_fedify", "doc", "https://a.example/1"])).toBeUndefined();
  });

  it("expires entries after their ttl and cleans them up in batches", async () => {
    await kv.set(["ttl", "short"], "soon gone", { ttl: ttl(1) });
    await kv.set(["ttl", "long"], "stays", { ttl: ttl(3600) });
    expect(await kv.get(["ttl", "short"])).toBe("soon gone");
    await db.pool.query("UPDATE fedify_kv SET expires_at = now() - interval '1 second' WHERE key = ARRAY['ttl','short']");
    expect(await kv.get(["ttl", "short"])).toBeUndefined();
    expect(await deleteExpiredKvEntries(db.pool, 1)).toBe(1);
    expect(await kv.get(["ttl", "long"])).toBe("stays");
  });

  it("lists by prefix in key order, skipping expired rows", async () => {
    await kv.set(["list", "b"], 2);
    await kv.set(["list", "a"], 1);
    await kv.set(["list", "a", "deep"], 3);
    await kv.set(["listing"], "not under the prefix");
    await kv.set(["list", "old"], 0, { ttl: ttl(60) });
    await db.pool.query("UPDATE fedify_kv SET expires_at = now() - interval '1 second' WHERE key = ARRAY['list','old']");
    const entries = [];
    for await (const entry of kv.list(["list"])) entries.push(entry);
    expect(entries).toEqual([
      { key: ["list", "a"], value: 1 },
      { key: ["list", "a", "deep"], value: 3 },
      { key: ["list", "b"], value: 2 },
    ]);
  });

  it("compare-and-swap succeeds only against the current value, including absence", async () => {
    expect(await kv.cas(["cas", "k"], undefined, { n: 1 })).toBe(true);
    expect(await kv.cas(["cas", "k"], undefined, { n: 9 })).toBe(false);
    expect(await kv.cas(["cas", "k"], { n: 2 }, { n: 3 })).toBe(false);
    expect(await kv.cas(["cas", "k"], { n: 1 }, { n: 2 })).toBe(true);
    expect(await kv.get(["cas", "k"])).toEqual({ n: 2 });
    expect(await kv.cas(["cas", "k"], { n: 2 }, undefined)).toBe(true);
    expect(await kv.get(["cas", "k"])).toBeUndefined();
  });

  it("lets exactly one of many concurrent swaps from the same value win", async () => {
    await kv.set(["cas", "race"], 0);
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => kv.cas(["cas", "race"], 0, i + 1)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const claimed = await Promise.all(Array.from({ length: 6 }, (_, i) => kv.cas(["cas", "fresh"], undefined, i)));
    expect(claimed.filter(Boolean)).toHaveLength(1);
  });
});
