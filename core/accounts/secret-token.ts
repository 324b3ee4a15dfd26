import { createHash, randomBytes } from "node:crypto";

/** Random bearer secrets (sessions, API tokens). They carry 256 bits, so a plain SHA-256 is enough to store them. */
export function newSecretToken(prefix = ""): string {
  return prefix + randomBytes(32).toString("base64url");
}

export function hashSecretToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
