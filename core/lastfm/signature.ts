import { createHash, timingSafeEqual } from "node:crypto";

export function md5Hex(text: string): string {
  return createHash("md5").update(text, "utf8").digest("hex");
}

/** Parameters Last.fm leaves out of api_sig: the reply's shape is not signed. */
const UNSIGNED = new Set(["format", "callback", "api_sig"]);

/**
 * Last.fm's api_sig: md5 over every parameter's name and value, names sorted by code unit (so
 * `artist[10]` comes before `artist[1]`, as the clients sort), followed by the shared secret.
 */
export function apiSignature(params: Record<string, string>, secret: string): string {
  const names = Object.keys(params).filter((name) => !UNSIGNED.has(name)).sort();
  return md5Hex(names.map((name) => name + params[name]).join("") + secret);
}

/** A hex md5 compared in constant time; case-insensitive, as some clients send upper case. */
export function sameMd5(given: string, expected: string): boolean {
  const a = Buffer.from(given.toLowerCase());
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
