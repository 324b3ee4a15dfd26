import type { Request } from "express";
import { printable } from "../../core/errors.ts";
import { SubsonicError, type Format } from "./response.ts";

const IDENTIFIER = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;
/** The XSD's xs:int: what counts, sizes, offsets, years and positions are (and what their columns hold). */
const INT_RANGE = [-(2 ** 31), 2 ** 31 - 1] as const;
/** xs:long (milliseconds since the epoch), as far as a JavaScript number holds it exactly. */
const LONG_RANGE = [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] as const;

/** Query string and (formPost) urlencoded body merged; repeated names are lists. */
export class Params {
  readonly #values = new Map<string, string[]>();

  constructor(req?: Request) {
    if (!req) return;
    const url = new URL(req.originalUrl, "http://local");
    this.#add(url.searchParams);
    if (Buffer.isBuffer(req.body) && req.body.length) this.#add(new URLSearchParams(req.body.toString("utf8")));
  }

  #add(search: URLSearchParams): void {
    for (const [key, value] of search) this.#values.set(key, [...(this.#values.get(key) ?? []), value]);
  }

  /** Only these parameters, each with its first value: all that a kept answer may depend on. */
  only(names: readonly string[]): Params {
    const copy = new Params();
    for (const name of names) {
      const value = this.get(name);
      if (value !== undefined) copy.#values.set(name, [value]);
    }
    return copy;
  }

  get(name: string): string | undefined {
    return this.#values.get(name)?.[0];
  }

  all(name: string): string[] {
    return this.#values.get(name) ?? [];
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  /**
   * Refuses the request when a parameter's name or value holds a NUL: no text column can store it, and
   * no client means it. Checked once for every method, before anything reads a parameter.
   */
  rejectNul(): void {
    for (const [name, values] of this.#values) {
      if (name.includes("\0") || values.some((value) => value.includes("\0"))) {
        throw new SubsonicError(0, `Parameter '${printable(name)}' contains a NUL character`);
      }
    }
  }

  required(name: string): string {
    const value = this.get(name);
    if (value === undefined || value === "") throw new SubsonicError(10, `Required parameter '${name}' is missing`);
    return value;
  }

  int(name: string): number | undefined {
    return this.#integer(name, INT_RANGE);
  }

  long(name: string): number | undefined {
    return this.#integer(name, LONG_RANGE);
  }

  #integer(name: string, [min, max]: readonly [number, number]): number | undefined {
    const value = this.get(name);
    if (value === undefined || value === "") return undefined;
    if (!/^-?\d+$/.test(value)) throw new SubsonicError(0, `Parameter '${name}' must be an integer`);
    const number = Number(value);
    if (number < min || number > max) throw new SubsonicError(0, `Parameter '${name}' must be an integer from ${min} to ${max}`);
    return number;
  }
}

/** `f`: xml (default, also for unknown values, like Navidrome), json, or jsonp with a JS identifier callback. */
export function formatOf(params: Params): { format: Format; error?: SubsonicError } {
  const f = params.get("f");
  if (f === "json") return { format: { kind: "json" } };
  if (f !== "jsonp") return { format: { kind: "xml" } };
  const callback = params.get("callback") ?? "";
  // The callback is echoed into JavaScript: only a plain (dotted) identifier, never an expression.
  if (IDENTIFIER.test(callback) && callback.length <= 100) return { format: { kind: "jsonp", callback } };
  return { format: { kind: "json" }, error: new SubsonicError(0, "The jsonp callback must be a JavaScript identifier") };
}
