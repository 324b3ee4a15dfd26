import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../config/env.ts";
import { open, seal } from "../../core/subsonic/sealed.ts";
import { deriveKey, serverSecretKey } from "../../core/subsonic/secret-key.ts";

describe("the server key and sealed values", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "secret-key-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("generates 32 random bytes once into DATA_DIR/secret.key (0600) and reuses them", async () => {
    const dataDir = path.join(dir, "data");
    const key = serverSecretKey({ dataDir, secretKey: undefined });
    expect(key).toHaveLength(32);
    const file = path.join(dataDir, "secret.key");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, "utf8")).trim()).toBe(key.toString("hex"));
    expect(serverSecretKey({ dataDir, secretKey: undefined }).equals(key)).toBe(true);
  });

  it("prefers SECRET_KEY, which must be at least 32 characters", async () => {
    const secretKey = "x".repeat(40);
    expect(serverSecretKey({ dataDir: path.join(dir, "unused"), secretKey }).toString()).toBe(secretKey);
    await expect(stat(path.join(dir, "unused"))).rejects.toThrow(/ENOENT/);
    expect(loadConfig({ SECRET_KEY: secretKey }).secretKey).toBe(secretKey);
    expect(() => loadConfig({ SECRET_KEY: "short" })).toThrow(/SECRET_KEY/);
  });

  it("opens a sealed value only with the same key and context", () => {
    const key = deriveKey(Buffer.alloc(32, 1), "test");
    const sealed = seal(key, "sesame", "user-1/password");
    expect(sealed).not.toContain("sesame");
    expect(open(key, sealed, "user-1/password")).toBe("sesame");
    expect(() => open(key, sealed, "user-2/password")).toThrow();
    expect(() => open(deriveKey(Buffer.alloc(32, 2), "test"), sealed, "user-1/password")).toThrow();
    expect(seal(key, "sesame", "user-1/password")).not.toBe(sealed);
  });
});
