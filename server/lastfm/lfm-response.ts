import type { Response } from "express";
import type { LastfmErrorCode } from "../../core/lastfm/lastfm-error.ts";

/** One element of a Last.fm reply: XML as is, JSON by Last.fm's own conversion (see toJson). */
export interface LfmNode {
  name: string;
  attrs?: Record<string, string | number>;
  text?: string | number;
  children?: LfmNode[];
}

export type LfmFormat = "xml" | "json";

export const el = (name: string, text?: string | number, attrs?: Record<string, string | number>): LfmNode => ({ name, text, attrs });
export const parent = (name: string, children: LfmNode[], attrs?: Record<string, string | number>): LfmNode => ({ name, children, attrs });

// XML 1.0 cannot carry most C0 controls even escaped: a scrobbled name holding one is echoed without it.
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/gu;
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

function escapeXml(value: string | number): string {
  return String(value).replace(NOT_XML, "").replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function toXml(node: LfmNode, indent: string): string {
  const attrs = Object.entries(node.attrs ?? {}).map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join("");
  if (node.children) {
    const inner = node.children.map((child) => toXml(child, `${indent}  `)).join("");
    return `${indent}<${node.name}${attrs}>\n${inner}${indent}</${node.name}>\n`;
  }
  if (node.text === undefined || node.text === "") return `${indent}<${node.name}${attrs}/>\n`;
  return `${indent}<${node.name}${attrs}>${escapeXml(node.text)}</${node.name}>\n`;
}

/**
 * Last.fm's XML-to-JSON: a parent's attributes go under "@attr" and its children by name (an array
 * when a name repeats, else one object); a leaf is its text, or {"#text", ...attributes} when it has some.
 */
export function toJson(node: LfmNode): unknown {
  if (node.children) {
    const out: Record<string, unknown> = {};
    for (const child of node.children) {
      const value = toJson(child);
      const repeated = node.children.filter((c) => c.name === child.name).length > 1;
      out[child.name] = repeated ? [...((out[child.name] as unknown[] | undefined) ?? []), value] : value;
    }
    if (node.attrs) out["@attr"] = node.attrs;
    return out;
  }
  const text = node.text ?? "";
  return node.attrs ? { ...node.attrs, "#text": text } : text;
}

/** The `format` parameter (XML unless json) and a JSONP callback name, when safe. */
export function replyFormat(params: Record<string, string>): { format: LfmFormat; callback: string | null } {
  const callback = params.callback && /^[A-Za-z_$][\w.$]{0,63}$/.test(params.callback) ? params.callback : null;
  return { format: params.format === "json" ? "json" : "xml", callback };
}

function send(res: Response, status: number, how: { format: LfmFormat; callback: string | null }, xml: string, json: unknown): void {
  res.status(status);
  if (how.format === "xml") {
    res.type("text/xml; charset=utf-8").send(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
  } else if (how.callback) {
    res.type("text/javascript; charset=utf-8").send(`${how.callback}(${JSON.stringify(json)});`);
  } else {
    res.type("application/json; charset=utf-8").send(JSON.stringify(json));
  }
}

/** `<lfm status="ok">` around the method's element; in JSON, `{name: ...}`. */
export function sendOk(res: Response, how: { format: LfmFormat; callback: string | null }, body: LfmNode): void {
  send(res, 200, how, toXml(parent("lfm", [body], { status: "ok" }), ""), { [body.name]: toJson(body) });
}

/** HTTP status Last.fm sends with each error code (the body says the rest). */
const STATUS: Partial<Record<LastfmErrorCode, number>> = { 4: 403, 9: 403, 10: 403, 13: 403, 14: 403, 15: 403, 26: 403, 29: 429, 8: 503, 11: 503 };

/** `<lfm status="failed"><error code="N">message</error></lfm>`; in JSON, `{"error": N, "message": ...}`. */
export function sendError(res: Response, how: { format: LfmFormat; callback: string | null }, code: LastfmErrorCode, message: string): void {
  const xml = toXml(parent("lfm", [el("error", message, { code })], { status: "failed" }), "");
  send(res, STATUS[code] ?? 400, how, xml, { error: code, message });
}
