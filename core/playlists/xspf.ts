import { Invalid } from "../errors.ts";
import { checkEntryCount, cleanText, toEntry, validDuration, type ParsedPlaylist, type PlaylistEntry } from "./playlist-entry.ts";

const XSPF_NS = "http://xspf.org/ns/0/";
const MB_RECORDING = "https://musicbrainz.org/recording/";
const MBID_IN_URL = /musicbrainz\.org\/recording\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/i;

/**
 * XSPF read by scanning, never with an XML parser: a document type declaration is refused outright, so
 * no entity (internal or external) can ever be defined, let alone expanded. Only XML's five predefined
 * entities and character references are decoded; anything else stays literal text.
 */
export function parseXspf(text: string): ParsedPlaylist {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
    throw new Invalid("XSPF files with a document type declaration (DTD) are not accepted", [
      { path: "body", message: "<!DOCTYPE> and <!ENTITY> are not allowed" },
    ], "xml_dtd_not_allowed");
  }
  const doc = withoutElements(cut(text, "<!--", "-->"), "extension");
  if (!/<(?:[\w.-]{1,64}:)?playlist[\s>]/.test(doc)) {
    throw new Invalid("This is not an XSPF playlist", [{ path: "body", message: "No <playlist> element" }], "invalid_playlist");
  }
  const list = first(elements(doc, "trackList"));
  const head = list ? doc.slice(0, list.start) : doc;
  const entries: PlaylistEntry[] = [];
  for (const track of list ? elements(list.content, "track") : []) {
    checkEntryCount(entries.length + 1);
    entries.push(trackEntry(track.content));
  }
  return {
    name: cleanText(textOf(head, "title")) || null,
    description: cleanText(textOf(head, "annotation"), 5000) || null,
    entries,
  };
}

function trackEntry(xml: string): PlaylistEntry {
  const identifiers = [...elements(xml, "identifier")].map((e) => decode(e.content));
  const mbid = identifiers.map((id) => MBID_IN_URL.exec(id)?.[1]).find(Boolean) ?? null;
  const duration = textOf(xml, "duration");
  return toEntry({
    location: textOf(xml, "location"),
    title: textOf(xml, "title"),
    artist: textOf(xml, "creator"),
    album: textOf(xml, "album"),
    durationMs: /^\d+$/.test(duration) ? validDuration(Number(duration)) : null,
    mbid,
  });
}

interface Found {
  /** Where the start tag begins and the end tag ends. */
  start: number;
  end: number;
  content: string;
}

/**
 * Each `<name ...>content</name>` in order (any namespace prefix). Each search starts where the last
 * ended and a missing end tag stops the scan, so even a broken 5 MB file costs linear time.
 */
function* elements(xml: string, name: string): Generator<Found> {
  const open = new RegExp(`<(?:[\\w.-]{1,64}:)?${name}(?:\\s[^<>]{0,2000})?>`, "g");
  const close = new RegExp(`</(?:[\\w.-]{1,64}:)?${name}\\s*>`, "g");
  for (let start = open.exec(xml); start; start = open.exec(xml)) {
    if (start[0].endsWith("/>")) continue; // <track/>: empty
    close.lastIndex = open.lastIndex;
    const end = close.exec(xml);
    if (!end) return;
    yield { start: start.index, end: close.lastIndex, content: xml.slice(open.lastIndex, end.index) };
    open.lastIndex = close.lastIndex;
  }
}

function first<T>(items: Iterable<T>): T | undefined {
  for (const item of items) return item;
  return undefined;
}

function textOf(xml: string, name: string): string {
  const found = first(elements(xml, name));
  return found ? decode(found.content) : "";
}

/** The text with every `<name>...</name>` block removed (extensions may hold any XML, titles included). */
function withoutElements(xml: string, name: string): string {
  let out = "";
  let from = 0;
  for (const found of elements(xml, name)) {
    out += xml.slice(from, found.start);
    from = found.end;
  }
  return out + xml.slice(from);
}

/** The text with each `open...close` span removed; an unclosed one runs to the end. */
function cut(text: string, open: string, close: string): string {
  let out = "";
  let from = 0;
  for (let at = text.indexOf(open); at >= 0; at = text.indexOf(open, from)) {
    out += text.slice(from, at);
    const end = text.indexOf(close, at + open.length);
    if (end < 0) return out;
    from = end + close.length;
  }
  return out + text.slice(from);
}

/** Element content to text: CDATA literal, markup dropped, predefined entities and char refs decoded. */
function decode(content: string): string {
  let out = "";
  let from = 0;
  for (let at = content.indexOf("<![CDATA["); at >= 0; at = content.indexOf("<![CDATA[", from)) {
    out += decodeEntities(content.slice(from, at).replace(/<[^<>]*>/g, ""));
    const end = content.indexOf("]]>", at);
    if (end < 0) return out.trim();
    out += content.slice(at + 9, end);
    from = end + 3;
  }
  return (out + decodeEntities(content.slice(from).replace(/<[^<>]*>/g, ""))).trim();
}

const PREDEFINED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(?:(lt|gt|amp|quot|apos)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));/g, (whole, name, dec, hex) => {
    if (name) return PREDEFINED[name as string]!;
    const code = dec ? Number(dec) : parseInt(hex as string, 16);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

// XML 1.0 allows tab, newline, carriage return and most of Unicode; anything else cannot be written at all.
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

export function escapeXml(text: string): string {
  return text.replace(NOT_XML, "").replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export function toXspf(meta: { name: string; description: string }, entries: PlaylistEntry[]): string {
  const tag = (name: string, value: string, indent: string) => `${indent}<${name}>${escapeXml(value)}</${name}>`;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<playlist version="1" xmlns="${XSPF_NS}">`];
  out.push(tag("title", meta.name, "  "));
  if (meta.description) out.push(tag("annotation", meta.description, "  "));
  out.push("  <trackList>");
  for (const e of entries) {
    const fields: [string, string | null][] = [
      ["location", e.location],
      ["identifier", e.mbid ? MB_RECORDING + e.mbid : null],
      ["title", e.title || null],
      ["creator", e.artist || null],
      ["album", e.album || null],
      ["duration", e.durationMs === null ? null : String(e.durationMs)],
    ];
    out.push("    <track>");
    for (const [name, value] of fields) if (value !== null) out.push(tag(name, value, "      "));
    out.push("    </track>");
  }
  out.push("  </trackList>", "</playlist>");
  return out.join("\n") + "\n";
}
