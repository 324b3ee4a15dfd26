// A small, strict XML reader for Subsonic answers (no XML library is installed): it throws on anything
// that is not well-formed (unbalanced or crossed tags, unquoted or repeated attributes, a bare `&` or
// `<`, unknown entities, text outside the root) and returns the element tree. No DTDs, no CDATA: our
// server never writes them, so meeting one is an error too.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decode(raw: string, where: string): string {
  if (raw.includes("<")) throw new Error(`'<' in ${where}`);
  return raw.replace(/&([^;]*);|&/g, (match, entity: string | undefined) => {
    if (entity === undefined) throw new Error(`bare '&' in ${where}`);
    const numeric = /^#(?:x([0-9a-f]+)|(\d+))$/i.exec(entity);
    if (numeric) return String.fromCodePoint(numeric[1] ? parseInt(numeric[1], 16) : Number(numeric[2]));
    if (!(entity in ENTITIES)) throw new Error(`unknown entity &${entity}; in ${where}`);
    return ENTITIES[entity]!;
  });
}

export function parseXml(xml: string): XmlElement {
  let at = 0;
  const fail = (message: string): never => {
    throw new Error(`XML not well-formed at ${at}: ${message} (…${xml.slice(Math.max(0, at - 40), at + 40)}…)`);
  };
  const skipSpace = () => {
    while (/\s/.test(xml[at] ?? "")) at++;
  };

  if (xml.startsWith("<?xml")) {
    const end = xml.indexOf("?>");
    if (end < 0 || !/^<\?xml version="1\.[01]"( encoding="[A-Za-z0-9._-]+")?( standalone="(yes|no)")?\s*\?>/.test(xml.slice(0, end + 2))) fail("bad XML declaration");
    at = end + 2;
  }

  const element = (): XmlElement => {
    if (xml[at] !== "<") fail("expected '<'");
    at++;
    const name = NAME.exec(xml.slice(at))?.[0] ?? fail("bad element name");
    at += name.length;
    const node: XmlElement = { name, attributes: {}, children: [], text: "" };
    for (;;) {
      const before = at;
      skipSpace();
      if (xml.startsWith("/>", at)) {
        at += 2;
        return node;
      }
      if (xml[at] === ">") {
        at++;
        break;
      }
      if (before === at) fail("attributes must be separated by white space");
      const attr = NAME.exec(xml.slice(at))?.[0] ?? fail("bad attribute name");
      at += attr.length;
      skipSpace();
      if (xml[at] !== "=") fail(`attribute ${attr} without '='`);
      at++;
      skipSpace();
      const quote = xml[at];
      if (quote !== '"' && quote !== "'") fail(`attribute ${attr} not quoted`);
      const end = xml.indexOf(quote!, at + 1);
      if (end < 0) fail("unterminated attribute value");
      if (attr in node.attributes) fail(`attribute ${attr} repeated`);
      node.attributes[attr] = decode(xml.slice(at + 1, end), `attribute ${attr}`);
      at = end + 1;
    }
    for (;;) {
      const next = xml.indexOf("<", at);
      if (next < 0) fail(`<${name}> is never closed`);
      node.text += decode(xml.slice(at, next), `the text of <${name}>`);
      at = next;
      if (xml.startsWith("</", at)) {
        at += 2;
        if (!xml.startsWith(name, at) || !/[\s>]/.test(xml[at + name.length] ?? "")) fail(`</${name}> expected`);
        at += name.length;
        skipSpace();
        if (xml[at] !== ">") fail("bad closing tag");
        at++;
        return node;
      }
      if (xml.startsWith("<!--", at) || xml.startsWith("<![CDATA[", at) || xml.startsWith("<!", at) || xml.startsWith("<?", at)) {
        fail("comments, CDATA, DTDs and processing instructions are not expected");
      }
      node.children.push(element());
    }
  };

  skipSpace();
  const root = element();
  skipSpace();
  if (at !== xml.length) fail("content after the root element");
  return root;
}

/** The same element, indented one element a line, attributes in document order: readable snapshots. */
export function formatXml(node: XmlElement, indent = ""): string {
  const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;").replace(/\n/g, "&#10;");
  const attrs = Object.entries(node.attributes).map(([k, v]) => ` ${k}="${escape(v)}"`).join("");
  if (!node.children.length && !node.text) return `${indent}<${node.name}${attrs}/>`;
  if (!node.children.length) return `${indent}<${node.name}${attrs}>${escape(node.text)}</${node.name}>`;
  const inner = node.children.map((c) => formatXml(c, `${indent}  `)).join("\n");
  return `${indent}<${node.name}${attrs}>${escape(node.text)}\n${inner}\n${indent}</${node.name}>`;
}
