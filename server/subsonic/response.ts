import type { Response } from "express";
import { VERSION as serverVersion } from "../../config/version.ts";

/**
 * The neutral response tree every serializer builds. Scalars are XML attributes / JSON values;
 * a child object is a child element / JSON object; an array is repeated elements / a JSON array
 * (always an array, even with one element); `$text` is XML text content / JSON "value".
 */
export type Scalar = string | number | boolean;
export interface Elem {
  [key: string]: Scalar | Elem | Elem[] | Scalar[] | undefined;
}

/**
 * A child element holding only text: `<notes>…</notes>` in XML, a plain string in JSON (the XSD's
 * xs:string elements, e.g. artistInfo's biography and image URLs).
 */
export function textElem(value: string): Elem {
  return { $text: value, $textOnly: true };
}

export const API_VERSION = "1.16.1";
const XMLNS = "http://subsonic.org/restapi";

export type Format = { kind: "xml" } | { kind: "json" } | { kind: "jsonp"; callback: string };

/** Error codes of the Subsonic / OpenSubsonic API (HTTP status is always 200). */
export class SubsonicError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

function envelope(status: "ok" | "failed"): Elem {
  return { status, version: API_VERSION, type: "polyphony", serverVersion, openSubsonic: true };
}

export function okBody(payload: Elem = {}): Elem {
  return { ...envelope("ok"), ...payload };
}

export function errorBody(error: SubsonicError): Elem {
  return { ...envelope("failed"), error: { code: error.code, message: error.message } };
}

/** The bytes of an answer in the requested format and their content type (for answers kept between requests). */
export function render(format: Format, body: Elem): { type: string; text: string } {
  if (format.kind === "xml") return { type: "application/xml; charset=utf-8", text: toXml(body) };
  const json = JSON.stringify({ "subsonic-response": toJson(body) });
  if (format.kind === "json") return { type: "application/json; charset=utf-8", text: json };
  return { type: "application/javascript; charset=utf-8", text: `${format.callback}(${json});` };
}

export function send(res: Response, format: Format, body: Elem): void {
  const { type, text } = render(format, body);
  res.status(200).type(type).send(text);
}

// ---- JSON -------------------------------------------------------------------------------------

// JSON.stringify takes the tree as it is (it leaves undefined values out) except where JSON's shape
// differs: `$text` is named "value" and a text-only child is a plain string. Only the elements on the
// way to such a spot are copied: copying all of them, and Object.entries' [key, value] pairs, were a
// third of all the memory a getAlbum request allocated.

function toJson(elem: Elem): unknown {
  let out: Record<string, unknown> | undefined;
  for (const key in elem) {
    const value = elem[key];
    const json = jsonValue(value);
    const name = key === "$text" ? "value" : key;
    if (!out && (json !== value || name !== key)) {
      out = {};
      for (const earlier in elem) {
        if (earlier === key) break;
        out[earlier] = elem[earlier];
      }
    }
    if (out) out[name] = json;
  }
  return out ?? elem;
}

function jsonValue(value: Elem[keyof Elem]): unknown {
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const json = isElem(item) ? toJson(item) : item;
      if (!copy && json !== item) copy = value.slice(0, i);
      copy?.push(json);
    }
    return copy ?? value;
  }
  if (isElem(value)) return value.$textOnly === true ? value.$text : toJson(value);
  return value;
}

function isElem(value: unknown): value is Elem {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---- XML --------------------------------------------------------------------------------------

// Characters XML 1.0 cannot carry at all (tags sometimes contain them): dropped.
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

function escapeXml(value: string): string {
  return value
    .replace(INVALID_XML, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/\r/g, "&#13;")
    .replace(/\n/g, "&#10;")
    .replace(/\t/g, "&#9;");
}

function toXml(body: Elem): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${element("subsonic-response", body, ` xmlns="${XMLNS}"`)}`;
}

function element(name: string, elem: Elem, extra = ""): string {
  let attrs = extra;
  let children = "";
  let text = "";
  for (const key in elem) {
    const value = elem[key];
    if (value === undefined || key === "$textOnly") continue;
    if (key === "$text") text = escapeXml(String(value));
    else if (Array.isArray(value)) {
      for (const item of value) children += isElem(item) ? element(key, item) : `<${key}>${escapeXml(String(item))}</${key}>`;
    } else if (isElem(value)) children += element(key, value);
    else attrs += ` ${key}="${escapeXml(String(value))}"`;
  }
  const content = text + children;
  return content ? `<${name}${attrs}>${content}</${name}>` : `<${name}${attrs}/>`;
}
