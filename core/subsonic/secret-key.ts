import { hkdfSync, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { AppConfig } from "../../config/env.ts";

const cache = new Map<string, Buffer>();

/**
 * The server's master secret: SECRET_KEY when set, else 32 random bytes generated once into
 * DATA_DIR/secret.key (0600). Read once per process (memoised), at router construction.
 */
export function serverSecretKey(config: Pick<AppConfig, "secretKey" | "dataDir">): Buffer {
  if (config.secretKey) return Buffer.from(config.secretKey, "utf8");
  const file = path.join(config.dataDir, "secret.key");
  let key = cache.get(file);
  if (!key) {
    key = readOrCreate(file);
    cache.set(file, key);
  }
  return key;
}

function readOrCreate(file: string): Buffer {
  try {
    return Buffer.from(readFileSync(file, "utf8").trim(), "hex");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  try {
    // `wx`: two processes starting at once must not overwrite each other's key.
    writeFileSync(file, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return Buffer.from(readFileSync(file, "utf8").trim(), "hex");
}

/** A 256-bit key for one purpose, so the master secret is never used directly. */
export function deriveKey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), `polyphony ${purpose}`, 32));
}
